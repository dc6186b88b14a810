-- $1 submitter[]: what each submitter's unfinished tasks ask for, summed per resource kind.
SELECT submitter, r.key AS kind, sum(r.value::float8) AS amount
FROM tasks CROSS JOIN LATERAL json_each_text(requirements::json) r
WHERE submitter = ANY($1::text[])
  AND state <> 'completed' AND state <> 'failed' AND state <> 'rejected' AND state <> 'cancelled'
GROUP BY submitter, r.key
