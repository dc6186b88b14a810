-- $1 task_id[] $2 sequence[] $3 details[] $4 old_details[]: statuses' details sealed again,
-- each only if still as read. Returns the rows written.
UPDATE task_events e SET details = u.details
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[]) AS u(task_id, sequence, details, old_details)
WHERE e.task_id = u.task_id AND e.sequence = u.sequence AND e.details = u.old_details
RETURNING e.task_id
