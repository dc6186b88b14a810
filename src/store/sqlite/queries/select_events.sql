-- @task_id @after: status messages of a task after a sequence, in order.
SELECT e.*, t.message_id AS reference_id
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.task_id = @task_id AND e.sequence > @after
ORDER BY e.sequence
