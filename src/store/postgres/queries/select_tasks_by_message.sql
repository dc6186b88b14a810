-- $1 submitter[] $2 message_id[]: the tasks that hold these (submitter, message_id) keys.
SELECT tasks.* FROM tasks
WHERE (submitter, message_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
