-- $1 after task id $2 after sequence $3 prefix $4 limit: statuses after ($1, $2) whose details
-- are not sealed under the current data key, in key order (store/reseal.ts).
SELECT task_id, sequence, details FROM task_events
WHERE (task_id, sequence) > ($1, $2) AND NOT starts_with(details, $3)
ORDER BY task_id, sequence
LIMIT $4
