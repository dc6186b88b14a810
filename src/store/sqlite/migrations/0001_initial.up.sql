-- Tasks, their status log, and the audit trail.
CREATE TABLE tasks (
  submit_seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT    NOT NULL UNIQUE,
  submitter        TEXT    NOT NULL,
  message_id       TEXT    NOT NULL,
  type             TEXT    NOT NULL,
  state            TEXT    NOT NULL,
  priority         INTEGER NOT NULL,
  deadline         INTEGER,
  parameters       TEXT    NOT NULL,
  requirements     TEXT    NOT NULL,
  timeout_ms       INTEGER,
  max_attempts     INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  progress         REAL,
  result           TEXT,
  error            TEXT,
  allocation       TEXT,
  run_at           INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  last_sequence    INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  started_at       INTEGER,
  finished_at      INTEGER,
  UNIQUE (submitter, message_id)
);

-- The ready queue, in scheduling order (tasks without a deadline after those with one).
CREATE INDEX tasks_ready ON tasks (priority DESC, ifnull(deadline, 9007199254740991), submit_seq)
  WHERE state = 'resource_allocation';
CREATE INDEX tasks_retry_due ON tasks (run_at) WHERE state = 'waiting' AND lease_owner IS NULL;
CREATE INDEX tasks_queued_deadline ON tasks (deadline)
  WHERE state IN ('resource_allocation', 'waiting') AND deadline IS NOT NULL;
CREATE INDEX tasks_leases ON tasks (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tasks_by_submitter ON tasks (submitter, submit_seq);
CREATE INDEX tasks_by_state ON tasks (state, submit_seq);

CREATE TABLE task_events (
  task_id    TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  sequence   INTEGER NOT NULL,
  message_id TEXT    NOT NULL,
  status     TEXT    NOT NULL,
  progress   REAL,
  details    TEXT,
  at         INTEGER NOT NULL,
  PRIMARY KEY (task_id, sequence)
) WITHOUT ROWID;

CREATE TABLE audit (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,
  principal  TEXT    NOT NULL,
  action     TEXT    NOT NULL,
  message_id TEXT,
  task_id    TEXT,
  decision   TEXT    NOT NULL,
  payload    TEXT
);
CREATE INDEX audit_by_task ON audit (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX audit_by_principal ON audit (principal, id);
CREATE INDEX audit_by_time ON audit (at);
