DROP TABLE audit;
DROP TABLE task_events;
DROP TABLE tasks;
