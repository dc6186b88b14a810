-- $1 task_id $2 after: status messages of a task after a sequence, in order.
SELECT e.task_id, t.message_id AS reference_id, e.sequence, e.message_id, e.status, e.progress,
       e.details, e.at
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.task_id = $1 AND e.sequence > $2
ORDER BY e.sequence
