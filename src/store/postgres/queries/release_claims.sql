-- $1 owner $2 ids[] (NULL: all of the owner's) $3 whether ready work goes to the work outbox
-- (distributed mode): gives back claims on tasks not started, and hands them to the relay again
-- (the broker's message that named them was settled when they were claimed).
WITH released AS (
  UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
  WHERE lease_owner = $1 AND state = 'resource_allocation' AND ($2::text[] IS NULL OR id = ANY($2::text[]))
  RETURNING id, priority, updated_at
)
INSERT INTO work_outbox (task_id, priority, at)
SELECT id, priority, updated_at FROM released WHERE $3::boolean
