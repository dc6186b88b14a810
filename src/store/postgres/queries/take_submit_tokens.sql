-- $1 principal $2 wanted $3 per_minute $4 now: takes up to $2 tokens from the principal's bucket
-- ($3 a minute, bursts of $3), refilled for the time since its last take; returns how many it
-- granted and the tokens left. One statement: processes taking at once queue on the row.
INSERT INTO submit_rates AS r (principal, tokens, at, granted)
VALUES ($1, $3::float8 - LEAST($2, $3), $4, LEAST($2, $3))
ON CONFLICT (principal) DO UPDATE SET
  granted = LEAST($2::float8, FLOOR(LEAST($3::float8, r.tokens + GREATEST(0, $4 - r.at) * $3 / 60000.0))),
  tokens = LEAST($3::float8, r.tokens + GREATEST(0, $4 - r.at) * $3 / 60000.0)
    - LEAST($2::float8, FLOOR(LEAST($3::float8, r.tokens + GREATEST(0, $4 - r.at) * $3 / 60000.0))),
  at = GREATEST(r.at, $4)
RETURNING granted, tokens
