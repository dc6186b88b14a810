DROP INDEX tasks_ready;
CREATE INDEX tasks_ready ON tasks (priority DESC, (COALESCE(deadline, 9007199254740991)), submit_seq)
  WHERE state = 'resource_allocation';
