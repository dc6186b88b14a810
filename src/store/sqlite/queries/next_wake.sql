-- The earliest due retry, queued deadline or lease expiry (NULL when there is none). Each
-- subquery reads one end of a partial index (INDEXED BY: the planner would scan by state).
SELECT min(
  ifnull((SELECT min(run_at) FROM tasks INDEXED BY tasks_retry_due WHERE state = 'waiting' AND lease_owner IS NULL), 9007199254740991),
  ifnull((SELECT min(deadline) FROM tasks INDEXED BY tasks_queued_deadline
          WHERE (state = 'resource_allocation' OR state = 'waiting') AND deadline IS NOT NULL), 9007199254740991),
  ifnull((SELECT min(lease_expires_at) FROM tasks WHERE lease_owner IS NOT NULL), 9007199254740991)
) AS at
