-- @id @parameters @result @error @old_parameters @old_result @old_error: a task's values sealed
-- again, written only if they are still the ones read (a writer's newer value is left alone).
UPDATE tasks SET parameters = @parameters, result = @result, error = @error
WHERE id = @id AND parameters = @old_parameters AND result IS @old_result AND error IS @old_error
