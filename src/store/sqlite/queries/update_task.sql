-- @submit_seq @expected_sequence @expected_state @lease_set and every mutable column: writes a
-- task's new state after a change, only if the stored task is still at @expected_sequence in
-- @expected_state (the compare-and-set every change is checked against). lease_expires_at is written only when @lease_set is 1:
-- renew_leases moves it without a new sequence, so a change that does not set it keeps the stored one.
UPDATE tasks
SET state = @state, attempts = @attempts, progress = @progress, result = @result, error = @error,
    allocation = @allocation, run_at = @run_at, lease_owner = @lease_owner,
    lease_expires_at = CASE WHEN @lease_set THEN @lease_expires_at ELSE lease_expires_at END,
    last_sequence = @last_sequence, updated_at = @updated_at, started_at = @started_at,
    finished_at = @finished_at
WHERE submit_seq = @submit_seq AND last_sequence = @expected_sequence AND state = @expected_state
