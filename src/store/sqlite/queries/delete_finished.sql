-- @cutoff @limit: removes terminal tasks finished before the cutoff (their statuses cascade).
DELETE FROM tasks
WHERE submit_seq IN (
  SELECT submit_seq FROM tasks WHERE finished_at IS NOT NULL AND finished_at < @cutoff LIMIT @limit
)
