// What one task costs in SQLite alone: `npx tsx bench/sqlite-cost.ts` times each statement the
// engine runs per task (µs per statement, 20,000 rows, the real schema, foreign keys on, no fsync).
// A no-op task runs about nine of them: insert + accepted status; on start a read, an update and a
// status; on completion a read, an update and two statuses.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqliteTaskStore } from "../src/store/sqlite/sqlite-task-store.js";
import { v7 } from "uuid";

const dir = mkdtempSync(join(tmpdir(), "sqlbench-"));
const path = join(dir, "t.db");
const store = await openSqliteTaskStore({ path, synchronous: "normal" });
await store.close();
const db = new Database(path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("foreign_keys = ON");
const N = 20000;
const ids = Array.from({ length: N }, () => v7());
const ins =
  db.prepare(`INSERT INTO tasks (id, submitter, message_id, type, state, priority, deadline, parameters, requirements, timeout_ms, max_attempts, run_at, created_at, updated_at)
 VALUES (?, 'a', ?, 'bench', 'resource_allocation', 5, NULL, '{"bid":1,"priority":5,"sleepMs":0,"failOnce":false,"cpu":0}', '{}', NULL, 3, 0, 0, 0)`);
const time = (label: string, f: () => void) => {
  const t = performance.now();
  db.transaction(f)();
  const ms = performance.now() - t;
  console.log(label.padEnd(28), ((ms * 1000) / N).toFixed(1), "µs/op");
};
time("insert task", () => {
  for (const id of ids) ins.run(id, randomUUID());
});
const sel = db.prepare("SELECT * FROM tasks WHERE id = ?");
time("select task by id", () => {
  for (const id of ids) sel.get(id);
});
time("select + JSON.parse", () => {
  for (const id of ids) {
    const r = sel.get(id) as { parameters: string; requirements: string };
    JSON.parse(r.parameters);
    JSON.parse(r.requirements);
  }
});
const upd = db.prepare(
  `UPDATE tasks SET state = 'executing', attempts = 1, progress = NULL, result = NULL, error = NULL, allocation = '{"id":"x","node":"n","amounts":{}}', run_at = 0, lease_owner = 'me', lease_expires_at = 99, last_sequence = 2, updated_at = 1, started_at = 1, finished_at = NULL WHERE id = ?`,
);
time("update (all columns) start", () => {
  for (const id of ids) upd.run(id);
});
const upd2 = db.prepare(
  `UPDATE tasks SET state = 'completed', attempts = 1, progress = 1, result = NULL, error = NULL, allocation = NULL, run_at = 0, lease_owner = NULL, lease_expires_at = NULL, last_sequence = 4, updated_at = 2, started_at = 1, finished_at = 2 WHERE id = ?`,
);
time("update (all columns) finish", () => {
  for (const id of ids) upd2.run(id);
});
const ev = db.prepare(
  `INSERT INTO task_events (task_id, sequence, message_id, status, progress, details, at) VALUES (?, ?, ?, 'executing', NULL, '{"event":"execution_started","attempt":1,"node":"n"}', 1)`,
);
time("insert event", () => {
  for (const id of ids) ev.run(id, 7, randomUUID());
});
time("randomUUID", () => {
  for (let i = 0; i < N; i++) randomUUID();
});
time("uuid v7", () => {
  for (let i = 0; i < N; i++) v7();
});
