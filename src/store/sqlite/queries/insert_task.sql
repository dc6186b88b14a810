-- Positional (the hot path binds arrays, cheaper than named objects), in this order: submit_seq,
-- id, submitter, message_id, type, state, priority, deadline, parameters, requirements,
-- timeout_ms, max_attempts, run_at, created_at, updated_at, result_key. A new task (its acceptance is status
-- 1); ignored when (submitter, message_id) exists. The store numbers submissions itself (it is the
-- only writer of its file), so a change queued for the task can name its row before it exists.
INSERT INTO tasks (submit_seq, id, submitter, message_id, type, state, priority, deadline, parameters,
                   requirements, timeout_ms, max_attempts, run_at, last_sequence, created_at, updated_at,
                   result_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
ON CONFLICT (submitter, message_id) DO NOTHING
