-- $1 prefix $2 suffix $3 submitter (each of the last two NULL for any) $4 limit: the ids that
-- start with a prefix (an index range scan) and, with a suffix, also end with it.
SELECT id FROM tasks
WHERE id LIKE replace(replace(replace($1, '\', '\\'), '%', '\%'), '_', '\_') || '%'
  AND ($2::text IS NULL OR right(id, length($2)) = $2)
  AND ($3::text IS NULL OR submitter = $3)
ORDER BY id
LIMIT $4
