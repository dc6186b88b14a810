-- $1 after (a submission number) $2 prefix $3 limit: the tasks after $1 with a value not sealed
-- under the current data key (not starting with $2), in submission order (store/reseal.ts).
SELECT submit_seq, id, parameters, result, error FROM tasks
WHERE submit_seq > $1
  AND (NOT starts_with(parameters, $2) OR NOT starts_with(result, $2) OR NOT starts_with(error, $2))
ORDER BY submit_seq
LIMIT $3
