-- Ready tasks per priority (the queue depth metric).
SELECT priority, count(*)::int AS n FROM tasks WHERE state = 'resource_allocation' GROUP BY priority
