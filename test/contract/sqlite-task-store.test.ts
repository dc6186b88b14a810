import { join } from "node:path";
import { migrateSqlite, sqliteMigrationStatus } from "../../src/store/sqlite/sqlite-migrator.js";
import { openSqliteTaskStore } from "../../src/store/sqlite/sqlite-task-store.js";
import { tempDir } from "../helpers/temp.js";
import { describeTaskStoreContract } from "./task-store.contract.js";

describeTaskStoreContract("sqlite", async ({ onReady }) => {
  const tmp = tempDir();
  const path = join(tmp.dir, "tasks.db");
  let store = await openSqliteTaskStore({ path, onReady });
  return {
    get store() {
      return store;
    },
    reopen: async (seal) => {
      await store.close();
      store = await openSqliteTaskStore({ path, onReady, seal });
      return store;
    },
    migrate: async (direction) => {
      const { error } = await migrateSqlite(path, direction);
      if (error) throw error;
    },
    migrationNames: async () =>
      (await sqliteMigrationStatus(path)).map((m) => ({ name: m.name, applied: m.executedAt !== undefined })),
    cleanup: async () => {
      await store.close();
      tmp.remove();
    },
  };
});
