-- $1 submitter (NULL for all): tasks per state.
SELECT state, count(*)::int AS n FROM tasks WHERE ($1::text IS NULL OR submitter = $1) GROUP BY state
