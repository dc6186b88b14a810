-- @submitter: number of one submitter's tasks in each state.
SELECT state, count(*) AS n FROM tasks INDEXED BY tasks_by_submitter
WHERE submitter = @submitter
GROUP BY state
