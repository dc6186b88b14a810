DROP TABLE audit;
DROP TABLE task_events;
DROP TABLE tasks;
DROP SEQUENCE task_submit_seq;
