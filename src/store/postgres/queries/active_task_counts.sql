-- $1 submitter[]: each submitter's unfinished tasks.
SELECT submitter, count(*)::int AS tasks FROM tasks
WHERE submitter = ANY($1::text[])
  AND state <> 'completed' AND state <> 'failed' AND state <> 'rejected' AND state <> 'cancelled'
GROUP BY submitter
