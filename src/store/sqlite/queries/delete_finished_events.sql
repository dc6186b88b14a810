-- @cutoff @limit: removes the statuses of the terminal tasks delete_finished.sql removes next, in
-- the same transaction (the same rows: same filter, order and limit). Foreign keys are not
-- enforced on the hot path, so nothing cascades.
DELETE FROM task_events
WHERE task_id IN (
  SELECT id FROM tasks INDEXED BY tasks_finished
  WHERE finished_at IS NOT NULL AND finished_at < @cutoff
  ORDER BY finished_at, submit_seq
  LIMIT @limit
)
