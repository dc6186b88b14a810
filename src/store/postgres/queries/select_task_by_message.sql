-- $1 submitter $2 message_id: the task a submission's key names.
SELECT * FROM tasks WHERE submitter = $1 AND message_id = $2
