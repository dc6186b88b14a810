-- @at @principal @action @message_id @task_id @decision @payload: one audit record.
INSERT INTO audit (at, principal, action, message_id, task_id, decision, payload)
VALUES (@at, @principal, @action, @message_id, @task_id, @decision, @payload)
