-- $1 id: one task.
SELECT * FROM tasks WHERE id = $1
