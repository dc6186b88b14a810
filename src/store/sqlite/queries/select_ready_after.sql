-- @priority @deadline_key @submit_seq @limit: ready tasks that come after the given one in
-- scheduling order (select_ready.sql's), for keyset refills of the frontier. Three index ranges
-- (same priority and deadline, later submission; same priority, later deadline; lower priority),
-- each read in index order, so the cost follows @limit, not the length of the queue.
SELECT * FROM (
  SELECT * FROM (
    SELECT * FROM tasks INDEXED BY tasks_ready
    WHERE state = 'resource_allocation' AND priority = @priority
      AND ifnull(deadline, 9007199254740991) = @deadline_key AND submit_seq > @submit_seq
    ORDER BY submit_seq
    LIMIT @limit)
  UNION ALL
  SELECT * FROM (
    SELECT * FROM tasks INDEXED BY tasks_ready
    WHERE state = 'resource_allocation' AND priority = @priority
      AND ifnull(deadline, 9007199254740991) > @deadline_key
    ORDER BY ifnull(deadline, 9007199254740991), submit_seq
    LIMIT @limit)
  UNION ALL
  SELECT * FROM (
    SELECT * FROM tasks INDEXED BY tasks_ready
    WHERE state = 'resource_allocation' AND priority < @priority
    ORDER BY priority DESC, ifnull(deadline, 9007199254740991), submit_seq
    LIMIT @limit)
)
ORDER BY priority DESC, ifnull(deadline, 9007199254740991), submit_seq
LIMIT @limit
