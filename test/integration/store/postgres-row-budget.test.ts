import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExecutor, defineHandler, type Executor } from "../../../src/index.js";
import { isTerminal } from "../../../src/protocol/states.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../../helpers/postgres.js";

// What one task's life writes on PostgreSQL (issue 27): the row versions per table and the
// transactions (statements: each is its own), counted by PostgreSQL itself (pg_stat_user_tables,
// pg_stat_database) in a fresh database, for no-ops that complete on their first attempt, in one process (the library). Not
// timed: a count. The budgets are today's figures (2026-12-07: tasks 3 — insert, start, end —
// task_events 4, audit 1); the re-shaped hot path lowers the status history's. Two processes
// sharing the store write a fourth version of `tasks` (the claim apart from the start): the
// bench's "row versions per job" row shows it for that shape.

const TASKS = 300;
/** Row versions (inserts + updates + deletes) per task, per table, at most. */
const BUDGET: Record<string, number> = { tasks: 3, task_events: 4, audit: 1 };
const OTHER_TABLES_AT_MOST = 0.1;
/**
 * Transactions committed per task, at most: the engine's statements for 300 tasks submitted as
 * one batch (inserts, claims, starts and ends, each one statement per round for many tasks).
 */
const COMMITS_PER_TASK = 0.5;

const available = await postgresForTests();

interface Counts {
  tables: Record<string, number>;
  commits: number;
}

async function counts(url: string, name: string): Promise<Counts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ relname: string; n: string }>(
      "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables",
    );
    const db = await client.query<{ commits: string }>(
      "SELECT xact_commit AS commits FROM pg_stat_database WHERE datname = $1",
      [name],
    );
    return {
      tables: Object.fromEntries(tables.rows.map((r) => [r.relname, Number(r.n)])),
      commits: Number(db.rows[0]!.commits),
    };
  } finally {
    await client.end();
  }
}

describe.runIf(available)("one task's life on PostgreSQL", () => {
  let db: TestDatabase;
  let executor: Executor;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await executor?.stop({ graceMs: 0 }).catch(() => {});
    await db?.drop();
  });

  it("writes no more row versions per task than its budget, table by table, in no more statements", async () => {
    executor = await createExecutor({
      store: { url: db.url },
      logging: { level: "silent" },
      handlers: [defineHandler({ type: "nothing", run: () => Promise.resolve(null) })],
    });
    await executor.start();
    const client = executor.client();
    // Counted after the schema and start-up writes: what follows is the tasks' alone.
    await new Promise((r) => setTimeout(r, 1_200));
    const before = await counts(db.url, db.name);
    // Ends are heard from the engine, not read from the store: the count is of the engine's
    // statements alone.
    let ended = 0;
    const allEnded = new Promise<void>((resolve) =>
      executor.engine.observe({
        onStatus: (_task, status) => {
          if (isTerminal(status.body.status) && ++ended === TASKS) resolve();
        },
        onRejected: () => {},
      }),
    );
    const submitted = await client.submitMany(
      Array.from({ length: TASKS }, (_, i) => ({ type: "nothing", parameters: { i } })),
    );
    expect(submitted.every((s) => s.ok)).toBe(true);
    await allEnded;
    // A backend's statistics are reported when it exits (or seconds after it goes idle).
    await executor.stop({ graceMs: 0 });
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await counts(db.url, db.name);

    const perTask: Record<string, number> = {};
    for (const [table, n] of Object.entries(after.tables)) {
      const written = (n - (before.tables[table] ?? 0)) / TASKS;
      if (written > 0) perTask[table] = Math.round(written * 100) / 100;
    }
    const commitsPerTask = (after.commits - before.commits) / TASKS;
    const report = JSON.stringify({ perTask, commitsPerTask });
    for (const [table, most] of Object.entries(BUDGET))
      expect(perTask[table] ?? 0, `${table}: ${report}`).toBeLessThanOrEqual(most);
    for (const [table, n] of Object.entries(perTask))
      if (!(table in BUDGET)) expect(n, `${table}: ${report}`).toBeLessThanOrEqual(OTHER_TABLES_AT_MOST);
    // Statements (each its own transaction): batched, a small share of one per task.
    expect(commitsPerTask, report).toBeLessThanOrEqual(COMMITS_PER_TASK);
    // Each task was written at all (the count is of something).
    expect(perTask.tasks).toBeGreaterThanOrEqual(2);
    expect(commitsPerTask).toBeGreaterThan(0);
    console.log(`one task's life on PostgreSQL: ${report}`);
  });
});
