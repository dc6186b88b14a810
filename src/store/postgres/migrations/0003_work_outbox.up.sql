-- Ready work not yet handed to the broker (distributed mode, the transactional outbox): a row is
-- written in the statement that makes a task ready, and removed once the broker confirmed the
-- task's message (forward_ready_work.sql). A crash in between hands it over again: workers drop
-- what they cannot claim.
CREATE TABLE work_outbox (
  id bigserial PRIMARY KEY,
  task_id text NOT NULL,
  priority integer NOT NULL,
  at bigint NOT NULL
);
