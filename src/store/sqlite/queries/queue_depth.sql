-- Ready tasks per priority (the queue depth metric).
SELECT priority, count(*) AS n FROM tasks INDEXED BY tasks_ready WHERE state = 'resource_allocation' GROUP BY priority
