-- @now @limit: waiting tasks (no lease: not waiting on a node's resources) whose retry time has come.
SELECT * FROM tasks INDEXED BY tasks_retry_due
WHERE state = 'waiting' AND lease_owner IS NULL AND run_at <= @now
ORDER BY run_at
LIMIT @limit
