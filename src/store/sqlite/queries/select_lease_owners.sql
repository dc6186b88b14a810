-- Every owner that holds a lease now.
SELECT DISTINCT lease_owner FROM tasks WHERE lease_owner IS NOT NULL
