-- $1 from, $2 until, $3 limit: the last status of each task that ended in [from, until), oldest
-- end first (the partial index tasks_finished serves it).
SELECT id AS task_id, last_sequence AS sequence, finished_at
FROM tasks
WHERE finished_at >= $1 AND finished_at < $2
ORDER BY finished_at
LIMIT $3
