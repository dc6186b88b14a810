-- $1 after id $2 prefix $3 limit: audit records after $1 whose payload is not sealed under the
-- current data key, in id order (store/reseal.ts).
SELECT id, task_id, principal, payload FROM audit
WHERE id > $1 AND NOT starts_with(payload, $2)
ORDER BY id
LIMIT $3
