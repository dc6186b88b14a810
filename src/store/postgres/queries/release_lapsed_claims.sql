-- $1 now $2 limit $3 whether ready work goes to the work outbox: claims on ready tasks that lapsed
-- (their process stopped renewing them: it died, or lost the database) are given back, back in
-- the ready index for claim_ready.sql, and (distributed mode) the tasks handed to the work relay
-- again: the broker message that named each was settled when it was claimed. Returns how many.
WITH lapsed AS MATERIALIZED (
  SELECT submit_seq FROM tasks
  WHERE state = 'resource_allocation' AND lease_owner IS NOT NULL AND lease_expires_at <= $1
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), released AS (
  UPDATE tasks t SET lease_owner = NULL, lease_expires_at = NULL
  FROM lapsed WHERE t.submit_seq = lapsed.submit_seq
  RETURNING t.id, t.priority
), outboxed AS (
  INSERT INTO work_outbox (task_id, priority, at)
  SELECT id, priority, $1 FROM released WHERE $3::boolean
)
SELECT count(*)::int AS n FROM released
