DROP INDEX tasks_queued_deadline;
CREATE INDEX tasks_queued_deadline ON tasks (deadline)
  WHERE state IN ('resource_allocation', 'waiting') AND deadline IS NOT NULL;
DROP INDEX tasks_active_by_submitter;
CREATE INDEX tasks_active_by_submitter ON tasks (submitter)
  WHERE state NOT IN ('completed', 'failed', 'rejected', 'cancelled');
