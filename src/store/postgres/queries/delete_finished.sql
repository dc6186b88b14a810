-- $1 cutoff $2 limit: removes terminal tasks finished before the cutoff (oldest first) with their
-- statuses; returns how many tasks.
WITH gone AS (
  DELETE FROM tasks
  WHERE submit_seq IN (
    SELECT submit_seq FROM tasks
    WHERE finished_at IS NOT NULL AND finished_at < $1
    ORDER BY finished_at, submit_seq
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  )
  RETURNING id
), events AS (
  DELETE FROM task_events e USING gone WHERE e.task_id = gone.id
)
SELECT count(*)::int AS n FROM gone
