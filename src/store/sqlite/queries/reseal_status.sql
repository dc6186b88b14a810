-- @task_id @sequence @details @old_details: a status's details sealed again, if still as read.
UPDATE task_events SET details = @details
WHERE task_id = @task_id AND sequence = @sequence AND details = @old_details
