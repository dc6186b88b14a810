-- $1 submit_seq[] $2 id[] $3 submitter[] $4 message_id[] $5 type[] $6 state[] $7 priority[]
-- $8 deadline[] $9 parameters[] $10 requirements[] $11 timeout_ms[] $12 max_attempts[]
-- $13 created_at[] $14 status_message_id[] $15 status_progress[] $16 status_details[]
-- $17 status_at[] $18 audit_principal[] $19 audit_at[] (NULL: no audit record for that task),
-- $22 result_key[], $20 the writing node (other processes hear of the new statuses through NOTIFY; see
-- transport/postgres/postgres-status-feed.ts), $21 whether ready work goes to the work outbox
-- (distributed mode).
-- Inserts each task unless its (submitter, message_id) is taken, with its acceptance as status 1
-- and, where asked, its audit record ("accepted", or "duplicate" naming the task that holds the
-- key), all in one statement; returns the ids it created.
WITH input AS (
  SELECT *
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
              $8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::int[], $13::bigint[],
              $14::text[], $15::float8[], $16::text[], $17::bigint[], $18::text[], $19::bigint[],
              $22::text[])
    WITH ORDINALITY
    AS i(submit_seq, id, submitter, message_id, type, state, priority, deadline, parameters,
         requirements, timeout_ms, max_attempts, created_at, status_message_id, status_progress,
         status_details, status_at, audit_principal, audit_at, result_key, ord)
), inserted AS (
  INSERT INTO tasks (submit_seq, id, submitter, message_id, type, state, priority, deadline,
                     parameters, requirements, timeout_ms, max_attempts, run_at, last_sequence,
                     created_at, updated_at, result_key)
  SELECT submit_seq, id, submitter, message_id, type, state, priority, deadline, parameters,
         requirements, timeout_ms, max_attempts, created_at, 1, created_at, created_at, result_key
  FROM input
  -- In key order: two processes inserting overlapping keys wait on each other, never in a circle;
  -- of twins in one batch, the first is the one created.
  ORDER BY submitter, message_id, ord
  ON CONFLICT (submitter, message_id) DO NOTHING
  RETURNING id
), events AS (
  INSERT INTO task_events (task_id, sequence, message_id, status, progress, details, at)
  SELECT input.id, 1, status_message_id, state, status_progress, status_details, status_at
  FROM input JOIN inserted USING (id)
), audited AS (
  INSERT INTO audit (at, principal, action, message_id, task_id, decision)
  SELECT audit_at, audit_principal, 'submit_task', input.message_id,
         -- The holder of a taken key is looked up by its key, and only for a task not inserted
         -- (a subquery COALESCE reaches only then). Joined, the planner hashed the whole table
         -- while it was small: 8 ms of a 23 ms insert of 500 tasks, with 12,000 stored.
         COALESCE(inserted.id,
                  (SELECT h.id FROM tasks h
                   WHERE h.submitter = input.submitter AND h.message_id = input.message_id),
                  first_value(input.id) OVER twins),
         CASE WHEN inserted.id IS NULL THEN 'duplicate' ELSE 'accepted' END
  FROM input
    LEFT JOIN inserted USING (id)
  WHERE audit_principal IS NOT NULL
  WINDOW twins AS (PARTITION BY input.submitter, input.message_id ORDER BY ord)
  ORDER BY ord
), outboxed AS (
  -- Distributed mode: the new tasks wait here for the work relay to hand them to the broker.
  INSERT INTO work_outbox (task_id, priority, at)
  SELECT input.id, input.priority, input.created_at FROM input JOIN inserted USING (id) WHERE $21::boolean
), notified AS (
  -- One notification per 150 statuses (a payload holds 8,000 bytes): "<node> <id>:1,…".
  SELECT pg_notify('taskexec_status', $20::text || ' ' || string_agg(id || ':1', ','))
  FROM (SELECT id, (row_number() OVER ()) / 150 AS chunk FROM inserted) c
  GROUP BY chunk
), signalled AS (
  -- New tasks are ready to run: the other executors look for work (transport/postgres/postgres-work-signal.ts).
  SELECT pg_notify('taskexec_work', $20::text) FROM inserted LIMIT 1
)
-- The subqueries run once, and only when a row was inserted: nothing written, nothing announced.
SELECT id FROM inserted WHERE (SELECT count(*) FROM notified) + (SELECT count(*) FROM signalled) >= 0
