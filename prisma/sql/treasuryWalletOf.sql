-- The rail's treasury wallet address, if one is recorded.
-- @param {String} $1:rail
SELECT address FROM treasury_wallets WHERE rail = $1
