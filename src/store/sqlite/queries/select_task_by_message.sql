-- @submitter @message_id: the task a submission created.
SELECT * FROM tasks WHERE submitter = @submitter AND message_id = @message_id
