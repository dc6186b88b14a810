-- $1 owner $2 ids[] (NULL: all of the owner's): gives back claims on tasks not started.
UPDATE tasks SET lease_owner = NULL, lease_expires_at = NULL
WHERE lease_owner = $1 AND state = 'resource_allocation' AND ($2::text[] IS NULL OR id = ANY($2::text[]))
