-- $1 task_id[] $2 sequence[]: these status messages (another process wrote them), in the order
-- asked, each with its task's submitter, type, creation and first start (for observers).
SELECT e.task_id, t.message_id AS reference_id, e.sequence, e.message_id, e.status, e.progress,
       e.details, e.at, t.submitter, t.type, t.created_at, t.started_at
FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS k(task_id, sequence, ord)
  JOIN task_events e ON e.task_id = k.task_id AND e.sequence = k.sequence
  JOIN tasks t ON t.id = e.task_id
ORDER BY k.ord
