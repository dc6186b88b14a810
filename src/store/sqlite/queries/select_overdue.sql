-- @now @limit: queued tasks whose deadline has passed.
SELECT * FROM tasks INDEXED BY tasks_queued_deadline
WHERE (state = 'resource_allocation' OR state = 'waiting') AND deadline IS NOT NULL AND deadline <= @now
ORDER BY deadline
LIMIT @limit
