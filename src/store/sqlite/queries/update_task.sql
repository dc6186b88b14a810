-- @id and every mutable column: writes a task's new state after a change.
UPDATE tasks
SET state = @state, attempts = @attempts, progress = @progress, result = @result, error = @error,
    allocation = @allocation, run_at = @run_at, lease_owner = @lease_owner,
    lease_expires_at = @lease_expires_at, last_sequence = @last_sequence, updated_at = @updated_at,
    started_at = @started_at, finished_at = @finished_at
WHERE id = @id
