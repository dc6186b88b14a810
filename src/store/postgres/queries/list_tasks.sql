-- $1 submitter $2 state $3 type $4 text (each NULL for any) $5 before_seq $6 limit: newest first,
-- a page at a time. $4 matches the start of the id or the reference (message) id, or any part of
-- the type. Summaries only: parameters and results are not read. The columns are the table's.
SELECT submit_seq, id, submitter, message_id, type, state, priority, deadline, '{}' AS parameters,
  requirements, timeout_ms, max_attempts, attempts, progress, NULL AS result, error, allocation,
  run_at, lease_owner, lease_expires_at, last_sequence, created_at, updated_at, started_at, finished_at,
  NULL AS result_key
FROM tasks
WHERE ($1::text IS NULL OR submitter = $1)
  AND ($2::text IS NULL OR state = $2)
  AND ($3::text IS NULL OR type = $3)
  AND ($4::text IS NULL OR left(id, length($4)) = $4 OR left(message_id, length($4)) = $4
       OR strpos(type, $4) > 0)
  AND submit_seq < $5
ORDER BY submit_seq DESC
LIMIT $6
