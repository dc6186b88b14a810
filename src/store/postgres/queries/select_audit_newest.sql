-- $1 task_id $2 principal $3 since (each NULL for any) $4 before_id $5 limit: newest first.
SELECT * FROM audit
WHERE ($1::text IS NULL OR task_id = $1)
  AND ($2::text IS NULL OR principal = $2)
  AND ($3::bigint IS NULL OR at >= $3)
  AND id < $4
ORDER BY id DESC
LIMIT $5
