-- @submitter @state @type (each NULL for any) @before_seq @limit: newest first, a page at a time.
SELECT * FROM tasks
WHERE (@submitter IS NULL OR submitter = @submitter)
  AND (@state IS NULL OR state = @state)
  AND (@type IS NULL OR type = @type)
  AND submit_seq < @before_seq
ORDER BY submit_seq DESC
LIMIT @limit
