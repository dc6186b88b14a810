-- $1 now $2 before $3 limit: ready tasks that no one has claimed and that last changed before $2
-- (their message was lost, or is held by a consumer that does not run it) are handed to the work
-- relay again, first in scheduling order, unless the outbox holds them already. Returns how many.
INSERT INTO work_outbox (task_id, priority, at)
SELECT t.id, t.priority, $1 FROM tasks t
WHERE t.state = 'resource_allocation' AND t.lease_owner IS NULL AND t.updated_at < $2
  AND NOT EXISTS (SELECT 1 FROM work_outbox o WHERE o.task_id = t.id)
ORDER BY t.priority DESC, COALESCE(t.deadline, 9007199254740991), t.submit_seq
LIMIT $3
