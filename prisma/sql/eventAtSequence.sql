-- An object's event at a sequence number, as delivery planning needs it.
-- @param {String} $1:objectId
-- @param {Int} $2:sequence
SELECT id, type, merchant_id, environment, object_id, sequence FROM events WHERE object_id = $1 AND sequence = $2
