-- Positional, in this order: submitter, message_id. The newest status message of the task that
-- (submitter, message_id) names: the reply to a duplicate submission.
SELECT e.*, t.message_id AS reference_id
FROM tasks t JOIN task_events e ON e.task_id = t.id
WHERE t.submitter = ? AND t.message_id = ?
ORDER BY e.sequence DESC
LIMIT 1
