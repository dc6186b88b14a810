-- $1 id[] $2 payload[] $3 old_payload[]: audit payloads sealed again, each only if still as read.
UPDATE audit a SET payload = u.payload
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, payload, old_payload)
WHERE a.id = u.id AND a.payload = u.old_payload
RETURNING a.id
