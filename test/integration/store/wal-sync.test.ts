import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteGroupCommit } from "../../../src/store/sqlite/sqlite-group-commit.js";
import { WalSync } from "../../../src/store/sqlite/wal-sync.js";
import { tempDir } from "../../helpers/temp.js";

/** A WAL database on a temp file, a second connection to read it, and the cleanup. */
function walDatabase() {
  const tmp = tempDir();
  const path = join(tmp.dir, "s.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
  const reader = new Database(path, { readonly: true });
  const count = () => (reader.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
  return {
    db,
    path,
    count,
    close: () => {
      reader.close();
      db.close();
      tmp.remove();
    },
  };
}

/** A sync the test lets finish (or fail) when it wants. */
function heldSync() {
  const calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const sync = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { sync, calls };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("commits made durable off the event loop", () => {
  it("calls onCommitted at commit, and settles a write only once the sync after it is done", async () => {
    const w = walDatabase();
    try {
      const held = heldSync();
      const commit = new SqliteGroupCommit(w.db, () => false, held.sync);
      const insert = w.db.prepare("INSERT INTO t (n) VALUES (?)");
      const events: string[] = [];
      const write = commit.write(
        () => insert.run(1).changes,
        (changes) => events.push(`committed ${changes}`),
      );
      void write.then(() => events.push("settled"));
      await turn();
      // Committed (another connection reads it) and told so; not settled while the sync runs.
      expect(w.count()).toBe(1);
      expect(events).toEqual(["committed 1"]);
      expect(held.calls).toHaveLength(1);
      await turn();
      expect(events).toEqual(["committed 1"]);
      held.calls[0]!.resolve();
      await expect(write).resolves.toBe(1);
      expect(events).toEqual(["committed 1", "settled"]);
    } finally {
      w.close();
    }
  });

  it("rejects every write of a batch whose sync fails: committed, but nothing of it may be announced", async () => {
    const w = walDatabase();
    try {
      const held = heldSync();
      const commit = new SqliteGroupCommit(w.db, () => false, held.sync);
      const insert = w.db.prepare("INSERT INTO t (n) VALUES (?)");
      const writes = [commit.write(() => insert.run(1)), commit.write(() => insert.run(2))];
      await turn();
      held.calls[0]!.reject(new Error("EIO: i/o error, fdatasync"));
      for (const write of writes) await expect(write).rejects.toThrow("EIO");
    } finally {
      w.close();
    }
  });

  it("settles batches in commit order even when a later batch's sync is asked for while an earlier one runs", async () => {
    const w = walDatabase();
    const sync = new WalSync(`${w.path}-wal`);
    try {
      const commit = new SqliteGroupCommit(
        w.db,
        () => false,
        () => sync.sync(),
      );
      const insert = w.db.prepare("INSERT INTO t (n) VALUES (?)");
      const settled: number[] = [];
      const all: Promise<unknown>[] = [];
      for (let n = 0; n < 20; n++) {
        all.push(commit.write(() => insert.run(n)).then(() => settled.push(n)));
        await turn();
      }
      await Promise.all(all);
      expect(settled).toEqual(Array.from({ length: 20 }, (_, n) => n));
      expect(commit.commits).toBe(20);
    } finally {
      await sync.close();
      w.close();
    }
  });

  it("shares one fdatasync among the callers that ask while none is running, and starts another for those who ask during it", async () => {
    const w = walDatabase();
    const sync = new WalSync(`${w.path}-wal`);
    try {
      w.db.prepare("INSERT INTO t (n) VALUES (1)").run();
      const first = sync.sync();
      const second = sync.sync();
      const third = sync.sync();
      // The first may have started before the others' writes: they wait for the next one.
      expect(second).not.toBe(first);
      expect(third).toBe(second);
      await Promise.all([first, second, third]);
      const later = sync.sync();
      expect(later).not.toBe(second);
      await later;
    } finally {
      await sync.close();
      w.close();
    }
  });

  it("rejects, not throws, when there is no WAL file to sync", async () => {
    const tmp = tempDir();
    const sync = new WalSync(join(tmp.dir, "missing.db-wal"));
    try {
      await expect(sync.sync()).rejects.toThrow("ENOENT");
    } finally {
      await sync.close();
      tmp.remove();
    }
  });
});
