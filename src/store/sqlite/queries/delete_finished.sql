-- @cutoff @limit: removes terminal tasks finished before the cutoff, oldest first (their statuses
-- are removed first by delete_finished_events.sql); returns each one's submitter and state.
DELETE FROM tasks
WHERE submit_seq IN (
  SELECT submit_seq FROM tasks INDEXED BY tasks_finished
  WHERE finished_at IS NOT NULL AND finished_at < @cutoff
  ORDER BY finished_at, submit_seq
  LIMIT @limit
)
RETURNING submitter, state
