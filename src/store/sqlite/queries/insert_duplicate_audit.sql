-- Positional, in this order: at, principal, submitter, message_id. The audit record of a
-- submission whose (submitter, message_id) already names a task: decision `duplicate`, with
-- that task's id.
INSERT INTO audit (at, principal, action, message_id, task_id, decision, payload)
SELECT ?, ?, 'submit_task', message_id, id, 'duplicate', NULL
FROM tasks WHERE submitter = ? AND message_id = ?
