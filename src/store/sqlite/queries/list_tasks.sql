-- @submitter @state @type @text (each NULL for any) @before_seq @limit: newest first, a page at a time.
-- @text matches the start of the id or the reference (message) id, or any part of the type.
SELECT * FROM tasks
WHERE (@submitter IS NULL OR submitter = @submitter)
  AND (@state IS NULL OR state = @state)
  AND (@type IS NULL OR type = @type)
  AND (@text IS NULL OR substr(id, 1, length(@text)) = @text
       OR substr(message_id, 1, length(@text)) = @text OR instr(type, @text) > 0)
  AND submit_seq < @before_seq
ORDER BY submit_seq DESC
LIMIT @limit
