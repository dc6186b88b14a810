-- $1 node $2 resources (JSON) $3 heartbeat_at $4 forget_before: records a node's heartbeat, and
-- forgets nodes silent since forget_before.
WITH forgotten AS (
  DELETE FROM nodes WHERE heartbeat_at < $4 AND node <> $1
)
INSERT INTO nodes (node, resources, heartbeat_at) VALUES ($1, $2, $3)
ON CONFLICT (node) DO UPDATE SET resources = EXCLUDED.resources, heartbeat_at = EXCLUDED.heartbeat_at
