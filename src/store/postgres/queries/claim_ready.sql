-- $1 owner $2 until $3 limit: claims the best ready tasks that no claim holds (rows
-- another process is claiming right now are skipped, not waited for); returns them, in no order.
-- The ready index holds no claimed task (migration 0006): a claim no longer steps over the
-- claimed and not yet started tasks at the head of the queue. A claim that lapsed is freed by
-- release_lapsed_claims.sql, in every process's sweep: looked for here, by its expiry, it made
-- every claim read the dead index entries of every claim before (2–2.5× the time per claim).
-- MATERIALIZED keeps the planner from updating more rows than the limit.
WITH claimed AS MATERIALIZED (
  SELECT submit_seq FROM tasks
  WHERE state = 'resource_allocation' AND lease_owner IS NULL
  ORDER BY priority DESC, COALESCE(deadline, 9007199254740991), submit_seq
  LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE tasks t SET lease_owner = $1, lease_expires_at = $2
FROM claimed
WHERE t.submit_seq = claimed.submit_seq
RETURNING t.*
