-- @now @limit: queued tasks whose deadline has passed.
SELECT * FROM tasks INDEXED BY tasks_queued_deadline
WHERE state IN ('resource_allocation', 'waiting') AND deadline IS NOT NULL AND deadline <= @now
ORDER BY deadline
LIMIT @limit
