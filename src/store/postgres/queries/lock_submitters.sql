-- $1 submitter[] (sorted, so two transactions never wait on each other): holds each submitter's
-- quota until the transaction ends; inserts racing for one submitter's room go one at a time.
SELECT pg_advisory_xact_lock(hashtextextended('taskexec.quota:' || s, 0)) FROM unnest($1::text[]) s
