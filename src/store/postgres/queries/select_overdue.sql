-- $1 now $2 limit: queued tasks whose deadline has passed.
SELECT * FROM tasks
WHERE (state = 'resource_allocation' OR state = 'waiting') AND deadline IS NOT NULL AND deadline <= $1
ORDER BY deadline
LIMIT $2
