-- @id: one task.
SELECT * FROM tasks WHERE id = @id
