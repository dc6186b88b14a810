-- $1 now $2 limit: waiting tasks (no lease: not waiting on a node's resources) whose retry time has come.
SELECT * FROM tasks
WHERE state = 'waiting' AND lease_owner IS NULL AND run_at <= $1
ORDER BY run_at
LIMIT $2
