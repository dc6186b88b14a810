-- @limit: ready tasks in scheduling order (must match the tasks_ready index).
SELECT * FROM tasks
WHERE state = 'resource_allocation'
ORDER BY priority DESC, ifnull(deadline, 9007199254740991), submit_seq
LIMIT @limit
