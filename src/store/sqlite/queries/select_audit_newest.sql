-- @task_id @principal @since (each NULL for any) @before_id @limit: audit records, newest first.
SELECT * FROM audit
WHERE (@task_id IS NULL OR task_id = @task_id)
  AND (@principal IS NULL OR principal = @principal)
  AND (@since IS NULL OR at >= @since)
  AND id < @before_id
ORDER BY id DESC
LIMIT @limit
