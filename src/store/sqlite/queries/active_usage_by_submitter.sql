-- Each submitter's unfinished tasks, and what they ask for in total per kind (read once when the
-- store opens: ActiveUsageLedger keeps it from then on). The state tests are written as
-- tasks_active_by_submitter's WHERE clause, so that index serves both.
SELECT
  s.submitter,
  s.tasks,
  (SELECT json_group_object(kind, total) FROM (
     SELECT r.key AS kind, sum(r.value) AS total
     FROM tasks t INDEXED BY tasks_active_by_submitter, json_each(t.requirements) r
     WHERE t.submitter = s.submitter
       AND t.state <> 'completed' AND t.state <> 'failed' AND t.state <> 'rejected' AND t.state <> 'cancelled'
     GROUP BY r.key)) AS resources
FROM (
  SELECT submitter, count(*) AS tasks FROM tasks INDEXED BY tasks_active_by_submitter
  WHERE state <> 'completed' AND state <> 'failed' AND state <> 'rejected' AND state <> 'cancelled'
  GROUP BY submitter) s
