-- @after_task @after_sequence @prefix @limit: statuses after (@after_task, @after_sequence) whose
-- details are not sealed under the current data key, in key order (store/reseal.ts).
SELECT task_id, sequence, details FROM task_events
WHERE (task_id, sequence) > (@after_task, @after_sequence)
  AND substr(details, 1, length(@prefix)) <> @prefix
ORDER BY task_id, sequence
LIMIT @limit
