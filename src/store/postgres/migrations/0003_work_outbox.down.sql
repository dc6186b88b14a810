DROP TABLE work_outbox;
