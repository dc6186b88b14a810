-- @task_id @sequence @message_id @status @progress @details @at: one status message.
INSERT INTO task_events (task_id, sequence, message_id, status, progress, details, at)
VALUES (@task_id, @sequence, @message_id, @status, @progress, @details, @at)
