-- @priority @deadline_key @submit_seq @limit: ready tasks of the same priority and deadline that
-- were submitted after the given one: the first of the three index ranges that follow a task in
-- scheduling order (select_ready.sql's), read in index order for keyset refills of the frontier.
SELECT * FROM tasks INDEXED BY tasks_ready
WHERE state = 'resource_allocation' AND priority = @priority
  AND ifnull(deadline, 9007199254740991) = @deadline_key AND submit_seq > @submit_seq
ORDER BY submit_seq
LIMIT @limit
