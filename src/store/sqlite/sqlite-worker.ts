// The SQLite worker thread: owns the store's connection and runs every statement, so that the
// statements and commits of the embedded store run on the second core while the event loop
// plans, schedules and runs handlers. See sqlite-connection.ts for the main thread's side.
import { type MessagePort, workerData } from "node:worker_threads";
import Database, { type Statement } from "better-sqlite3";
import { SqliteBatchRunner } from "./sqlite-batch-runner.js";
import { type Reply, type Request, toWireError, type WorkerInit } from "./sqlite-worker-messages.js";

const { path, statements, taskQueries, taskColumns, ops, port } = workerData as WorkerInit & {
  port: MessagePort;
};

const reply = (message: Reply) => port.postMessage(message);

function open(): { db: Database.Database; runner: SqliteBatchRunner } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // Commits never sync here: the main thread makes each one durable (an fdatasync of the WAL)
  // before it is announced, when the store is durable at all (see wal-sync.ts).
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // Not enforced: each status insert would look its task up although the store only ever writes
  // statuses of tasks it holds; deletions remove statuses explicitly.
  db.pragma("foreign_keys = OFF");
  const raw = new Set(taskQueries);
  const prepared = statements.map((text, index): Statement => {
    const statement = db.prepare(text);
    if (!raw.has(index)) return statement;
    const columns = statement.columns().map((c) => c.name);
    if (columns.join() !== taskColumns.join())
      throw new Error(
        `a task query returns columns (${columns.join(", ")}), expected those of tasks:\n${text}`,
      );
    return statement.raw(true);
  });
  return { db, runner: new SqliteBatchRunner(db, prepared, ops) };
}

function serve(db: Database.Database, runner: SqliteBatchRunner): void {
  port.on("message", (request: Request) => {
    if ("close" in request) {
      db.close();
      reply({ closed: true });
      port.close();
      return;
    }
    try {
      if ("batch" in request) reply({ results: runner.runBatch(request.batch, request.writes) });
      else reply({ value: runner.read(request.read) });
    } catch (error) {
      reply({ error: toWireError(error) });
    }
  });
}

try {
  const { db, runner } = open();
  serve(db, runner);
  reply({ value: "ready" });
} catch (error) {
  reply({ error: toWireError(error) });
  port.close();
}
