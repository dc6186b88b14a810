-- $1 at[] $2 principal[] $3 action[] $4 message_id[] $5 task_id[] $6 decision[] $7 payload[]:
-- audit records, in order.
INSERT INTO audit (at, principal, action, message_id, task_id, decision, payload)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
