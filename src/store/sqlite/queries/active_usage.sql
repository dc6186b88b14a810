-- @submitter: how many unfinished tasks a submitter has, and what they ask for in total per kind.
-- The state test is written as tasks_active_by_submitter's WHERE clause, so that index serves it.
SELECT
  (SELECT count(*) FROM tasks INDEXED BY tasks_active_by_submitter
   WHERE submitter = @submitter
     AND state <> 'completed' AND state <> 'failed' AND state <> 'rejected' AND state <> 'cancelled') AS tasks,
  (SELECT json_group_object(kind, total) FROM (
     SELECT r.key AS kind, sum(r.value) AS total
     FROM tasks t INDEXED BY tasks_active_by_submitter, json_each(t.requirements) r
     WHERE t.submitter = @submitter
       AND t.state <> 'completed' AND t.state <> 'failed' AND t.state <> 'rejected' AND t.state <> 'cancelled'
     GROUP BY r.key)) AS resources
