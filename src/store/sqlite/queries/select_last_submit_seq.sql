-- The highest submission number ever given (AUTOINCREMENT's record, or the highest row): the
-- store numbers new tasks on from there.
SELECT max(
  coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tasks'), 0),
  coalesce((SELECT max(submit_seq) FROM tasks), 0)
) AS seq
