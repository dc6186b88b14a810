-- $1 limit: ready tasks in scheduling order (priority desc, deadline asc with none last, FIFO).
SELECT * FROM tasks
WHERE state = 'resource_allocation'
ORDER BY priority DESC, COALESCE(deadline, 9007199254740991), submit_seq
LIMIT $1
