-- Number of tasks per submitter and state (read once when the store opens: StateCounts keeps it
-- from then on).
SELECT submitter, state, count(*) AS n FROM tasks GROUP BY submitter, state
