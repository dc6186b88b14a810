-- @after @prefix @limit: audit records after id @after whose payload is not sealed under the
-- current data key, in id order (store/reseal.ts).
SELECT id, task_id, principal, payload FROM audit
WHERE id > @after AND substr(payload, 1, length(@prefix)) <> @prefix
ORDER BY id
LIMIT @limit
