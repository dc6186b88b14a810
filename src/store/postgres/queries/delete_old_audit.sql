-- $1 cutoff $2 limit: removes audit records older than the cutoff.
DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < $1 ORDER BY id LIMIT $2)
