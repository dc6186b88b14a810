-- Positional, in this order: at, principal, action, message_id, task_id, decision, payload. One
-- audit record.
INSERT INTO audit (at, principal, action, message_id, task_id, decision, payload)
VALUES (?, ?, ?, ?, ?, ?, ?)
