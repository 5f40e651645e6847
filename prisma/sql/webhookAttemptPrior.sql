-- An attempt already logged (a retried activity finds it instead of sending again).
-- @param {String} $1:deliveryId
-- @param {Int} $2:attempt
SELECT outcome, response_status, error FROM webhook_attempts WHERE delivery_id = $1 AND attempt = $2
