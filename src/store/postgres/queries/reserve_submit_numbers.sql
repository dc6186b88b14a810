-- $1 blocks: the starts of that many blocks of 64 submission numbers (the sequence steps by 64).
SELECT nextval('task_submit_seq')::bigint AS start FROM generate_series(1, $1::int)
