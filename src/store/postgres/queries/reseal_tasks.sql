-- $1 id[] $2 parameters[] $3 result[] $4 error[] $5 old_parameters[] $6 old_result[]
-- $7 old_error[]: tasks' values sealed again, each written only if still the ones read (a
-- writer's newer value is left alone). Returns the ids written.
UPDATE tasks t
SET parameters = u.parameters, result = u.result, error = u.error
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS u(id, parameters, result, error, old_parameters, old_result, old_error)
WHERE t.id = u.id AND t.parameters = u.old_parameters
  AND t.result IS NOT DISTINCT FROM u.old_result AND t.error IS NOT DISTINCT FROM u.old_error
RETURNING t.id
