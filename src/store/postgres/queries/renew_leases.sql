-- $1 owner $2 ids[] $3 expires_at: extends the leases the owner still holds; returns how many.
UPDATE tasks SET lease_expires_at = $3 WHERE lease_owner = $1 AND id = ANY($2::text[])
