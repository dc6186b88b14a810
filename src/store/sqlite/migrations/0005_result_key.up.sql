-- The public JWK a submitter asked its task's result to be encrypted for (task_specification.result_key).
ALTER TABLE tasks ADD COLUMN result_key TEXT;
