-- The earliest due retry, queued deadline or lease expiry (NULL when there is none); each
-- subquery reads one end of a partial index.
SELECT LEAST(
  (SELECT min(run_at) FROM tasks WHERE state = 'waiting' AND lease_owner IS NULL),
  (SELECT min(deadline) FROM tasks
   WHERE (state = 'resource_allocation' OR state = 'waiting') AND deadline IS NOT NULL),
  (SELECT min(lease_expires_at) FROM tasks WHERE lease_owner IS NOT NULL)
) AS at
