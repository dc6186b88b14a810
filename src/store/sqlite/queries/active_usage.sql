-- @submitter: how many unfinished tasks a submitter has, and what they ask for in total per kind.
SELECT
  (SELECT count(*) FROM tasks
   WHERE submitter = @submitter AND state NOT IN ('completed', 'failed', 'rejected', 'cancelled')) AS tasks,
  (SELECT json_group_object(kind, total) FROM (
     SELECT r.key AS kind, sum(r.value) AS total
     FROM tasks t, json_each(t.requirements) r
     WHERE t.submitter = @submitter AND t.state NOT IN ('completed', 'failed', 'rejected', 'cancelled')
     GROUP BY r.key)) AS resources
