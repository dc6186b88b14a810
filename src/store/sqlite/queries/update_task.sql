-- Positional, in this order: state, attempts, progress, result, error, allocation, run_at,
-- lease_owner, lease_set, lease_expires_at, last_sequence, updated_at, started_at, finished_at,
-- then the guard: submit_seq, expected_sequence, expected_state (see updateParams).
-- Writes a task's new state after a change, only if the stored task is still at
-- expected_sequence in expected_state (the compare-and-set every change is checked against).
-- lease_expires_at is written only when lease_set is 1: renew_leases moves it without a new
-- sequence, so a change that does not set it keeps the stored one.
UPDATE tasks
SET state = ?, attempts = ?, progress = ?, result = ?, error = ?, allocation = ?, run_at = ?,
    lease_owner = ?, lease_expires_at = CASE WHEN ? THEN ? ELSE lease_expires_at END,
    last_sequence = ?, updated_at = ?, started_at = ?, finished_at = ?
WHERE submit_seq = ? AND last_sequence = ? AND state = ?
