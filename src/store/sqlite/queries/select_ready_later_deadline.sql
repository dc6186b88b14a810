-- @priority @deadline_key @limit: ready tasks of the same priority with a later deadline (or none
-- where the given one has one): the second index range after a task in scheduling order.
SELECT * FROM tasks INDEXED BY tasks_ready
WHERE state = 'resource_allocation' AND priority = @priority
  AND ifnull(deadline, 9007199254740991) > @deadline_key
ORDER BY ifnull(deadline, 9007199254740991), submit_seq
LIMIT @limit
