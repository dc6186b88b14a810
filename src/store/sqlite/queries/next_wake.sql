-- The earliest due retry, queued deadline or lease expiry (NULL when there is none).
SELECT min(
  ifnull((SELECT min(run_at) FROM tasks WHERE state = 'waiting' AND lease_owner IS NULL), 9007199254740991),
  ifnull((SELECT min(deadline) FROM tasks
          WHERE state IN ('resource_allocation', 'waiting') AND deadline IS NOT NULL), 9007199254740991),
  ifnull((SELECT min(lease_expires_at) FROM tasks WHERE lease_owner IS NOT NULL), 9007199254740991)
) AS at
