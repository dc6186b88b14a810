-- @after @prefix @limit: the tasks after submission number @after with a value not sealed under
-- the current data key (not starting with @prefix), in submission order (store/reseal.ts).
SELECT submit_seq, id, parameters, result, error FROM tasks
WHERE submit_seq > @after
  AND (substr(parameters, 1, length(@prefix)) <> @prefix
       OR substr(result, 1, length(@prefix)) <> @prefix
       OR substr(error, 1, length(@prefix)) <> @prefix)
ORDER BY submit_seq
LIMIT @limit
