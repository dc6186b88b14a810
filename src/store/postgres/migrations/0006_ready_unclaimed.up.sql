-- The ready index holds only the tasks no process has claimed (issue 27): a claim takes a task
-- out of it, so the next claim no longer steps over every claimed and not yet started task at
-- the head of the queue (claim_ready.sql's time on 2 serve: 2.6–5.5 → 0.9–1.1 s per 22,000
-- tasks). Lapsed claims are freed by every process's sweep (release_lapsed_claims.sql).
DROP INDEX tasks_ready;
CREATE INDEX tasks_ready ON tasks (priority DESC, (COALESCE(deadline, 9007199254740991)), submit_seq)
  WHERE state = 'resource_allocation' AND lease_owner IS NULL;
