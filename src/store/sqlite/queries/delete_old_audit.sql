-- @cutoff @limit: removes audit records older than the cutoff.
DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < @cutoff ORDER BY id LIMIT @limit)
