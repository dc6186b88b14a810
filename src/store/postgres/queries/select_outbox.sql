-- $1 limit: the oldest ready work in the outbox that no other relay is handing over now (locked
-- until the caller's transaction ends).
SELECT id, task_id, priority FROM work_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
