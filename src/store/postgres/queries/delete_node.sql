-- $1 node: a node that stopped.
DELETE FROM nodes WHERE node = $1
