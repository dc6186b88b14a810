-- Positional, in this order: task_id, sequence, message_id, status, progress, details, at. One
-- status message.
INSERT INTO task_events (task_id, sequence, message_id, status, progress, details, at)
VALUES (?, ?, ?, ?, ?, ?, ?)
