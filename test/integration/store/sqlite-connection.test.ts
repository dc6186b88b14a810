import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { type DurableSync, SqliteConnection } from "../../../src/store/sqlite/sqlite-connection.js";
import { ALL, RUN } from "../../../src/store/sqlite/sqlite-worker-messages.js";
import { encodeStep } from "../../../src/store/sqlite/sqlite-write-encoding.js";
import { WalSync } from "../../../src/store/sqlite/wal-sync.js";
import { tempDir } from "../../helpers/temp.js";

const INSERT = 0;
const ROWS = 1;
const UNUSED = { insertTask: 0, insertEvent: 0, insertAudit: 0, insertDuplicateAudit: 0 } as const;

/** A WAL file with a table `t`, a connection to it on its worker thread, and a second connection to read it. */
async function open(sync?: (path: string) => DurableSync) {
  const tmp = tempDir();
  const path = join(tmp.dir, "c.db");
  const setup = new Database(path);
  setup.pragma("journal_mode = WAL");
  setup.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
  setup.close();
  const connection = await SqliteConnection.open({
    path,
    statements: ["INSERT INTO t (n) VALUES (?)", "SELECT n FROM t ORDER BY n"],
    taskQueries: [],
    taskColumns: [],
    ops: { ...UNUSED, selectTaskByMessage: 0, selectLatestEventByMessage: 0, updateTask: 0, selectTask: 0 },
    sync: sync?.(path),
  });
  const reader = new Database(path, { readonly: true });
  const stored = () =>
    (reader.prepare("SELECT n FROM t ORDER BY n").all() as { n: number }[]).map((r) => r.n);
  return {
    connection,
    stored,
    close: async () => {
      reader.close();
      await connection.close();
      tmp.remove();
    },
  };
}

/** A write of one insert per number; resolves to the changes of each. */
function insert(connection: SqliteConnection, ...numbers: number[]) {
  return connection.write(
    (tape) => {
      tape.push(numbers.length);
      for (const n of numbers) encodeStep(tape, INSERT, [n], RUN);
    },
    (results, at) => results.slice(at, at + numbers.length),
  );
}

/** A sync the test lets finish (or fail) when it wants. */
function heldSync() {
  const calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const sync: DurableSync = {
    sync: () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject })),
    close: async () => {},
  };
  return { sync, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
};

describe("SQLite connection on its worker thread", () => {
  it("commits the writes of one event-loop turn together, each write's results in its own place", async () => {
    const db = await open();
    try {
      const writes = Array.from({ length: 10 }, (_, i) => insert(db.connection, 2 * i, 2 * i + 1));
      expect(await Promise.all(writes)).toEqual(Array.from({ length: 10 }, () => [1, 1]));
      expect(db.connection.batches).toBe(1);
      expect(db.stored()).toEqual(Array.from({ length: 20 }, (_, n) => n));
    } finally {
      await db.close();
    }
  });

  it("sends a large batch to an idle worker as two transactions, committed in order", async () => {
    const db = await open();
    try {
      const writes = Array.from({ length: 40 }, (_, n) => insert(db.connection, n));
      await Promise.all(writes);
      expect(db.connection.batches).toBe(2);
      expect(db.stored()).toEqual(Array.from({ length: 40 }, (_, n) => n));
    } finally {
      await db.close();
    }
  });

  it("replays a batch one write at a time when a write fails part way, so nothing partial commits", async () => {
    const db = await open();
    try {
      const good = insert(db.connection, 1);
      // Writes row 2, then fails on a duplicate of row 1: row 2 must not survive.
      const partial = insert(db.connection, 2, 1);
      const after = insert(db.connection, 3);
      const settled = await Promise.allSettled([good, partial, after]);
      expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(settled[1]).toMatchObject({ reason: { code: "SQLITE_CONSTRAINT_PRIMARYKEY" } });
      expect(db.stored()).toEqual([1, 3]);
    } finally {
      await db.close();
    }
  });

  it("lets a read see every write queued before it", async () => {
    const db = await open();
    try {
      const write = insert(db.connection, 7);
      const rows = await db.connection.read<{ n: number }[]>([ROWS, [], ALL]);
      expect(rows).toEqual([{ n: 7 }]);
      await write;
    } finally {
      await db.close();
    }
  });

  it("calls committed at commit, and settles a write only once the sync after it is done", async () => {
    const held = heldSync();
    const db = await open(() => held.sync);
    try {
      const events: string[] = [];
      const write = db.connection.write(
        (tape) => {
          tape.push(1);
          encodeStep(tape, INSERT, [1], RUN);
        },
        (results, at) => {
          events.push(`committed ${String(results[at])}`);
          return "done";
        },
      );
      void write.then(() => events.push("settled"));
      await until(() => held.calls.length > 0);
      // Committed (another connection reads it) and told so; not settled while the sync runs.
      expect(db.stored()).toEqual([1]);
      expect(events).toEqual(["committed 1"]);
      await turn();
      expect(events).toEqual(["committed 1"]);
      held.calls[0]!.resolve();
      await expect(write).resolves.toBe("done");
      expect(events).toEqual(["committed 1", "settled"]);
    } finally {
      for (const call of held.calls) call.resolve();
      await db.close();
    }
  });

  it("rejects every write of a batch whose sync fails: committed, but nothing of it may be announced", async () => {
    const held = heldSync();
    const db = await open(() => held.sync);
    try {
      const writes = [insert(db.connection, 1), insert(db.connection, 2)];
      await until(() => held.calls.length > 0);
      held.calls[0]!.reject(new Error("EIO: i/o error, fdatasync"));
      for (const write of writes) await expect(write).rejects.toThrow("EIO");
    } finally {
      await db.close();
    }
  });

  it("settles batches in commit order with the real WAL sync, whichever turn asked", async () => {
    const db = await open((path) => new WalSync(`${path}-wal`));
    try {
      const settled: number[] = [];
      const all: Promise<unknown>[] = [];
      for (let n = 0; n < 20; n++) {
        all.push(insert(db.connection, n).then(() => settled.push(n)));
        await turn();
      }
      await Promise.all(all);
      expect(settled).toEqual(Array.from({ length: 20 }, (_, n) => n));
    } finally {
      await db.close();
    }
  });

  it("refuses to open when a statement cannot be prepared, and says which", async () => {
    const tmp = tempDir();
    try {
      await expect(
        SqliteConnection.open({
          path: join(tmp.dir, "bad.db"),
          statements: ["SELECT * FROM no_such_table"],
          taskQueries: [],
          taskColumns: [],
          ops: {
            ...UNUSED,
            selectTaskByMessage: 0,
            selectLatestEventByMessage: 0,
            updateTask: 0,
            selectTask: 0,
          },
        }),
      ).rejects.toThrow("no such table: no_such_table");
    } finally {
      tmp.remove();
    }
  });
});
