-- @lo @hi @suffix @submitter (each of the last two NULL for any) @limit: the ids that start with
-- a prefix (lo ≤ id < hi walks the primary key) and, with @suffix, also end with it; for the
-- abbreviated ids people copy from the CLI and the dashboard.
SELECT id FROM tasks
WHERE id >= @lo AND id < @hi
  AND (@suffix IS NULL OR substr(id, -length(@suffix)) = @suffix)
  AND (@submitter IS NULL OR submitter = @submitter)
ORDER BY id
LIMIT @limit
