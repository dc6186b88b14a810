-- @limit: ready tasks in scheduling order. INDEXED BY: without it the planner prefers
-- tasks_by_state and sorts every ready task on each call.
SELECT * FROM tasks INDEXED BY tasks_ready
WHERE state = 'resource_allocation'
ORDER BY priority DESC, ifnull(deadline, 9007199254740991), submit_seq
LIMIT @limit
