-- @id @submitter @message_id @type @state @priority @deadline @parameters @requirements @timeout_ms
-- @max_attempts @run_at @created_at: a new task (its acceptance is status 1); ignored when
-- (submitter, message_id) exists.
INSERT INTO tasks (id, submitter, message_id, type, state, priority, deadline, parameters, requirements,
                   timeout_ms, max_attempts, run_at, last_sequence, created_at, updated_at)
VALUES (@id, @submitter, @message_id, @type, @state, @priority, @deadline, @parameters, @requirements,
        @timeout_ms, @max_attempts, @run_at, 1, @created_at, @created_at)
ON CONFLICT (submitter, message_id) DO NOTHING
