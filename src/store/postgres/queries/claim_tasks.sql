-- $1 owner $2 now $3 until $4 id[]: claims for the owner those of these tasks that are ready and
-- that no live claim of another holds (rows another process is claiming right now are skipped);
-- returns them, in no order. A task that finished, runs, or is claimed elsewhere is not returned.
WITH claimed AS MATERIALIZED (
  SELECT submit_seq FROM tasks
  WHERE id = ANY($4::text[]) AND state = 'resource_allocation'
    AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at <= $2)
  FOR UPDATE SKIP LOCKED
)
UPDATE tasks t SET lease_owner = $1, lease_expires_at = $3
FROM claimed
WHERE t.submit_seq = claimed.submit_seq
RETURNING t.*
