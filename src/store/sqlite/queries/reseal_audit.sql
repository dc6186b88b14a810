-- @id @payload @old_payload: an audit record's payload sealed again, if still as read.
UPDATE audit SET payload = @payload WHERE id = @id AND payload = @old_payload
