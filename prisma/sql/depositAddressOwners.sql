-- Which of these addresses are the rail's deposit addresses, and the payment each is assigned
-- to now (null: released, or never assigned).
-- @param {String} $1:rail
-- @param $2:addresses
SELECT address, payment_id FROM deposit_addresses WHERE rail = $1 AND address = ANY($2::text[])
