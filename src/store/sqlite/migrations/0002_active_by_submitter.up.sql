-- Unfinished tasks per submitter, for quotas (max_active_tasks, max_resources).
CREATE INDEX tasks_active_by_submitter ON tasks (submitter)
  WHERE state NOT IN ('completed', 'failed', 'rejected', 'cancelled');
