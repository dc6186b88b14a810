-- $1 now $2 dead_owners[] $3 limit: leased tasks whose lease expired or whose owner is dead
-- (claims on ready tasks are not leases: they lapse by themselves).
SELECT * FROM tasks
WHERE lease_owner IS NOT NULL AND state <> 'resource_allocation'
  AND (lease_expires_at <= $1 OR lease_owner = ANY($2::text[]))
ORDER BY lease_expires_at
LIMIT $3
