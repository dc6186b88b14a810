-- @owner @ids (a JSON array) @expires_at: extends the leases the owner still holds.
UPDATE tasks SET lease_expires_at = @expires_at
WHERE lease_owner = @owner AND id IN (SELECT value FROM json_each(@ids))
