-- A payment's event, numbered by the transition's seq, carrying the payment's API object.
-- @param {String} $1:eventId
-- @param {String} $2:type
-- @param {String} $3:paymentId
-- @param {Int} $4:sequence
-- @param {String} $5:data the payment's API object as JSON
-- @param {DateTime} $6:at
INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data, created_at)
SELECT $1, merchant_id, environment, $2, 'payment', id, $4, $5::jsonb, $6 FROM payments WHERE id = $3
RETURNING id
