-- $1 submitter[] $2 message_id[]: which of these keys a stored task holds already.
SELECT submitter, message_id FROM tasks
WHERE (submitter, message_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
