-- $1 task_id[]: the newest status message of each task.
SELECT DISTINCT ON (e.task_id) e.task_id, t.message_id AS reference_id, e.sequence, e.message_id,
       e.status, e.progress, e.details, e.at
FROM task_events e JOIN tasks t ON t.id = e.task_id
WHERE e.task_id = ANY($1::text[])
ORDER BY e.task_id, e.sequence DESC
