-- Each process's resources as of its last heartbeat: any process lists the whole cluster.
CREATE TABLE nodes (
  node         TEXT   PRIMARY KEY,
  resources    TEXT   NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
