-- $1 owner $2 now $3 until $4 limit: claims the best ready tasks that no live claim holds (rows
-- another process is claiming right now are skipped, not waited for); returns them, in no order.
-- MATERIALIZED keeps the planner from updating more rows than the limit.
WITH claimed AS MATERIALIZED (
  SELECT submit_seq FROM tasks
  WHERE state = 'resource_allocation' AND (lease_owner IS NULL OR lease_expires_at <= $2)
  ORDER BY priority DESC, COALESCE(deadline, 9007199254740991), submit_seq
  LIMIT $4
  FOR UPDATE SKIP LOCKED
)
UPDATE tasks t SET lease_owner = $1, lease_expires_at = $3
FROM claimed
WHERE t.submit_seq = claimed.submit_seq
RETURNING t.*
