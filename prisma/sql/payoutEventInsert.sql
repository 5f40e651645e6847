-- A payout's event, numbered by the transition's seq, carrying the payout's API object.
-- @param {String} $1:eventId
-- @param {String} $2:type
-- @param {String} $3:payoutId
-- @param {Int} $4:sequence
-- @param {String} $5:data the payout's API object as JSON
-- @param {DateTime} $6:at
INSERT INTO events (id, merchant_id, environment, type, object_type, object_id, sequence, data, created_at)
SELECT $1, merchant_id, environment, $2, 'payout', id, $4, $5::jsonb, $6 FROM payouts WHERE id = $3
RETURNING id
