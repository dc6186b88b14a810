-- $1 priority $2 deadline_key $3 submit_seq $4 limit: ready tasks that come after this key in
-- scheduling order (a keyset page, for frontier refills).
SELECT * FROM tasks
WHERE state = 'resource_allocation'
  AND (priority < $1
       OR (priority = $1 AND (COALESCE(deadline, 9007199254740991) > $2
                              OR (COALESCE(deadline, 9007199254740991) = $2 AND submit_seq > $3))))
ORDER BY priority DESC, COALESCE(deadline, 9007199254740991), submit_seq
LIMIT $4
