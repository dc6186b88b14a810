CREATE INDEX tasks_by_state ON tasks (state, submit_seq);
