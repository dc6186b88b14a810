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
  it("commits the writes of one event-loop turn in one transaction; a failing write undoes only itself", async () => {
    const tmp = tempDir();
    const db = new Database(join(tmp.dir, "g.db"));
    try {
      db.exec("CREATE TABLE t (n INTEGER PRIMARY KEY)");
      const commit = new SqliteGroupCommit(db);
      const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
      const writes = Array.from({ length: 200 }, (_, i) => commit.write(() => insert.run(i % 150)));
      const settled = await Promise.allSettled(writes);
      expect(commit.commits).toBe(1);
      expect(settled.filter((s) => s.status === "fulfilled")).toHaveLength(150);
      expect(settled.filter((s) => s.status === "rejected")).toHaveLength(50);
      expect((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(150);
      await commit.write(() => insert.run(1000));
      expect(commit.commits).toBe(2);
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
