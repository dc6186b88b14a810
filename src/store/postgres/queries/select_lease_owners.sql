-- Owners holding a lease now.
SELECT DISTINCT lease_owner FROM tasks WHERE lease_owner IS NOT NULL
