import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
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

describe("WAL sync off the event loop", () => {
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
