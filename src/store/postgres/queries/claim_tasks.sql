-- $1 owner $2 now $3 until $4 id[]: claims for the owner those of these tasks that are ready and
-- that no live claim of another holds; returns them, in no order. A task that finished, runs, or
-- is claimed elsewhere is not returned (the message that named it is stale, and is dropped).
-- A row another transaction holds is waited for, not skipped, and checked again once free: the
-- holder may be a writer whose compare-and-set will fail (two workers requeueing the same due
-- retry), and skipping it would drop the only message that names a ready task. Rows are locked in
-- id order, as update_tasks.sql locks them, so the two never deadlock.
WITH claimed AS MATERIALIZED (
  SELECT submit_seq FROM tasks
  WHERE id = ANY($4::text[]) AND state = 'resource_allocation'
    AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at <= $2)
  ORDER BY id
  FOR UPDATE
)
UPDATE tasks t SET lease_owner = $1, lease_expires_at = $3
FROM claimed
WHERE t.submit_seq = claimed.submit_seq
RETURNING t.*
