-- Every node's last heartbeat, by node.
SELECT node, resources, heartbeat_at FROM nodes ORDER BY node
