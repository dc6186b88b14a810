-- Tasks, their status log, and the audit trail, for several processes on one database.
-- Times are epoch milliseconds (BIGINT, read as numbers); JSON values are stored as the text the
-- application wrote (parameters keep their key order, and nothing is parsed twice).

-- Submission numbers are handed out in blocks of 64 (one nextval per block): each process numbers
-- its own submissions without a round trip, and FIFO among equals holds to within a block.
CREATE SEQUENCE task_submit_seq INCREMENT BY 64 MINVALUE 1 START WITH 1;

CREATE TABLE tasks (
  submit_seq       BIGINT           PRIMARY KEY,
  id               TEXT             NOT NULL UNIQUE,
  submitter        TEXT             NOT NULL,
  message_id       TEXT             NOT NULL,
  type             TEXT             NOT NULL,
  state            TEXT             NOT NULL,
  priority         INTEGER          NOT NULL,
  deadline         BIGINT,
  parameters       TEXT             NOT NULL,
  requirements     TEXT             NOT NULL,
  timeout_ms       BIGINT,
  max_attempts     INTEGER          NOT NULL,
  attempts         INTEGER          NOT NULL DEFAULT 0,
  progress         DOUBLE PRECISION,
  result           TEXT,
  error            TEXT,
  allocation       TEXT,
  run_at           BIGINT           NOT NULL,
  lease_owner      TEXT,
  lease_expires_at BIGINT,
  last_sequence    INTEGER          NOT NULL DEFAULT 0,
  created_at       BIGINT           NOT NULL,
  updated_at       BIGINT           NOT NULL,
  started_at       BIGINT,
  finished_at      BIGINT,
  UNIQUE (submitter, message_id)
);

-- The ready queue, in scheduling order (tasks without a deadline after those with one): the
-- index matches select_ready's ORDER BY exactly, over ready rows only.
CREATE INDEX tasks_ready ON tasks (priority DESC, (COALESCE(deadline, 9007199254740991)), submit_seq)
  WHERE state = 'resource_allocation';
CREATE INDEX tasks_retry_due ON tasks (run_at) WHERE state = 'waiting' AND lease_owner IS NULL;
CREATE INDEX tasks_queued_deadline ON tasks (deadline)
  WHERE (state = 'resource_allocation' OR state = 'waiting') AND deadline IS NOT NULL;
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tasks_by_submitter ON tasks (submitter, submit_seq);
CREATE INDEX tasks_active_by_submitter ON tasks (submitter)
  WHERE state <> 'completed' AND state <> 'failed' AND state <> 'rejected' AND state <> 'cancelled';
CREATE INDEX tasks_by_id_pattern ON tasks (id text_pattern_ops);

-- The hot table changes on every transition: vacuum it by row count, not by a share of its size.
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
  autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000);

CREATE TABLE task_events (
  task_id    TEXT             NOT NULL,
  sequence   INTEGER          NOT NULL,
  message_id TEXT             NOT NULL,
  status     TEXT             NOT NULL,
  progress   DOUBLE PRECISION,
  details    TEXT,
  at         BIGINT           NOT NULL,
  PRIMARY KEY (task_id, sequence)
);

CREATE TABLE audit (
  id         BIGSERIAL PRIMARY KEY,
  at         BIGINT    NOT NULL,
  principal  TEXT      NOT NULL,
  action     TEXT      NOT NULL,
  message_id TEXT,
  task_id    TEXT,
  decision   TEXT      NOT NULL,
  payload    TEXT
);
CREATE INDEX audit_by_task ON audit (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX audit_by_principal ON audit (principal, id);
CREATE INDEX audit_by_time ON audit (at);
