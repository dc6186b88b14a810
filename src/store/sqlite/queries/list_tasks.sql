-- @submitter @state @type @text (each NULL for any) @before_seq @limit: newest first, a page at a time.
-- @text matches the start of the id or the reference (message) id, or any part of the type.
-- A list is of summaries: parameters and results (up to body_limit each) are not read, so that a
-- page of a thousand tasks costs what their summaries cost. The columns are TASK_COLUMNS' order.
SELECT submit_seq, id, submitter, message_id, type, state, priority, deadline, '{}' AS parameters,
  requirements, timeout_ms, max_attempts, attempts, progress, NULL AS result, error, allocation,
  run_at, lease_owner, lease_expires_at, last_sequence, created_at, updated_at, started_at, finished_at,
  NULL AS result_key
FROM tasks
WHERE (@submitter IS NULL OR submitter = @submitter)
  AND (@state IS NULL OR state = @state)
  AND (@type IS NULL OR type = @type)
  AND (@text IS NULL OR substr(id, 1, length(@text)) = @text
       OR substr(message_id, 1, length(@text)) = @text OR instr(type, @text) > 0)
  AND submit_seq < @before_seq
ORDER BY submit_seq DESC
LIMIT @limit
