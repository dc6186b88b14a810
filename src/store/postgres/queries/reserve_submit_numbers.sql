-- The start of a block of 64 submission numbers for this process (the sequence steps by 64).
SELECT nextval('task_submit_seq') AS start
