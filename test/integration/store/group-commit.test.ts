import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteGroupCommit } from "../../../src/store/sqlite/sqlite-group-commit.js";
import { collect, type Harness, startExecutor } from "../../helpers/executor.js";
import { tempDir } from "../../helpers/temp.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("group commit", () => {
  it("commits the writes of one event-loop turn in one transaction; a clean refusal rejects only itself", async () => {
    const tmp = tempDir();
    const db = new Database(join(tmp.dir, "g.db"));
    try {
      db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
      class Refused extends Error {}
      const commit = new SqliteGroupCommit(db, (e) => e instanceof Refused);
      const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
      const writes = Array.from({ length: 200 }, (_, i) =>
        commit.write(() => {
          if (i % 4 === 3) throw new Refused("no");
          return insert.run(i);
        }),
      );
      const settled = await Promise.allSettled(writes);
      expect(commit.commits).toBe(1);
      expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(150);
      expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(150);
      await commit.write(() => insert.run(1000));
      expect(commit.commits).toBe(2);
    } finally {
      db.close();
      tmp.remove();
    }
  });

  it("lets a write queued while another runs join that write's transaction", async () => {
    const tmp = tempDir();
    const db = new Database(join(tmp.dir, "g.db"));
    try {
      db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
      const commit = new SqliteGroupCommit(db);
      const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
      let joined: Promise<unknown> | undefined;
      const first = commit.write(() => {
        insert.run(1);
        joined = commit.write(() => insert.run(2));
      });
      await Promise.all([first, new Promise((r) => setImmediate(r))]);
      await joined;
      expect(commit.commits).toBe(1);
      expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(2);
    } finally {
      db.close();
      tmp.remove();
    }
  });

  it("writes a submitted task's start in the transaction of its acceptance when a slot is free", async () => {
    h = await startExecutor();
    const reader = new Database(h.dbPath, { readonly: true });
    try {
      const statuses = reader.prepare("SELECT status FROM task_events WHERE task_id = ? ORDER BY sequence");
      const client = h.executor.client();
      for (let i = 0; i < 3; i++) {
        const task = await client.submit({ type: "sleep", parameters: { ms: 50 } });
        // Read at once, as the acceptance is announced: the start is already on disk with it.
        expect((statuses.all(task.id) as { status: string }[]).map((r) => r.status)).toEqual([
          "resource_allocation",
          "executing",
        ]);
        await collect(client.watch(task.id));
      }
    } finally {
      reader.close();
    }
  });

  it("replays a batch one write at a time when a write fails part way, so nothing partial commits", async () => {
    const tmp = tempDir();
    const db = new Database(join(tmp.dir, "g.db"));
    try {
      db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
      const commit = new SqliteGroupCommit(db);
      const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
      const good = commit.write(() => insert.run(1));
      // Writes row 2, then fails on a duplicate of row 1: row 2 must not survive.
      const partial = commit.write(() => {
        insert.run(2);
        return insert.run(1);
      });
      const after = commit.write(() => insert.run(3));
      const settled = await Promise.allSettled([good, partial, after]);
      expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((db.prepare("SELECT n FROM t ORDER BY n").all() as { n: number }[]).map((r) => r.n)).toEqual([
        1, 3,
      ]);
    } finally {
      db.close();
      tmp.remove();
    }
  });

  it("announces a status only once another connection can read it from disk", async () => {
    h = await startExecutor();
    const reader = new Database(h.dbPath, { readonly: true });
    try {
      const stored = reader.prepare("SELECT 1 FROM task_events WHERE task_id = ? AND sequence = ?");
      const client = h.executor.client();
      const task = await client.submit({ type: "sleep", parameters: { ms: 120 } });
      const seen: boolean[] = [];
      for await (const status of client.watch(task.id)) {
        seen.push(stored.get(status.header.task_id, status.header.sequence) !== undefined);
      }
      expect(seen.length).toBeGreaterThan(4);
      expect(seen.every(Boolean)).toBe(true);
      expect((await collect(client.watch(task.id))).length).toBe(seen.length);
    } finally {
      reader.close();
    }
  });
});
