-- @task_id @principal @since (each NULL for any) @after_id @limit: audit records, oldest first.
SELECT * FROM audit
WHERE (@task_id IS NULL OR task_id = @task_id)
  AND (@principal IS NULL OR principal = @principal)
  AND (@since IS NULL OR at >= @since)
  AND id > @after_id
ORDER BY id
LIMIT @limit
