-- The product database's size on disk, in bytes.
SELECT pg_database_size(current_database())::float8 AS bytes
