-- $1 id[]: ready work the broker confirmed.
DELETE FROM work_outbox WHERE id = ANY($1::bigint[])
