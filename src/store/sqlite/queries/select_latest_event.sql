-- @task_id: the newest status message of a task.
SELECT e.*, t.message_id AS reference_id
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.task_id = @task_id
ORDER BY e.sequence DESC
LIMIT 1
