-- @priority @limit: ready tasks of lower priority: the third index range after a task in
-- scheduling order.
SELECT * FROM tasks INDEXED BY tasks_ready
WHERE state = 'resource_allocation' AND priority < @priority
ORDER BY priority DESC, ifnull(deadline, 9007199254740991), submit_seq
LIMIT @limit
