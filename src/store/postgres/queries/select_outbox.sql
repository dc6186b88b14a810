-- $1 limit: the oldest ready work in the outbox that no other relay is handing over now (locked
-- until the caller's transaction ends), with what a worker needs to decide whether it can take
-- the task (its type and requirements; null for a task removed since).
SELECT o.id, o.task_id, o.priority, t.type, t.requirements
FROM work_outbox o LEFT JOIN tasks t ON t.id = o.task_id
ORDER BY o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED
