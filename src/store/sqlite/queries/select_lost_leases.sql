-- @now @dead_owners (a JSON array) @limit: leased tasks whose lease expired or whose owner is dead.
SELECT * FROM tasks
WHERE lease_owner IS NOT NULL
  AND (lease_expires_at <= @now OR lease_owner IN (SELECT value FROM json_each(@dead_owners)))
ORDER BY lease_expires_at
LIMIT @limit
