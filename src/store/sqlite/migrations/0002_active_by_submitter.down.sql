DROP INDEX tasks_active_by_submitter;
