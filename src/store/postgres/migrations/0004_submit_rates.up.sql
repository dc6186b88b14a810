-- Each principal's submission rate (limits.submit_per_minute), counted once for every process
-- sharing the database: a token bucket per principal (take_submit_tokens.sql).
CREATE TABLE submit_rates (
  principal TEXT             PRIMARY KEY,
  tokens    DOUBLE PRECISION NOT NULL,
  at        BIGINT           NOT NULL,
  -- How many the last take granted (what its statement returns).
  granted   INTEGER          NOT NULL
);
