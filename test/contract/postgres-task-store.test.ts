import { describe } from "vitest";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import { migratePostgres, postgresMigrationStatus } from "../../src/store/postgres/postgres-migrator.js";
import { createPool } from "../../src/store/postgres/postgres-pool.js";
import { createTestDatabase, postgresForTests } from "../helpers/postgres.js";
import { describeTaskStoreContract } from "./task-store.contract.js";

const available = await postgresForTests();

// Both ways a PostgreSQL store is opened: for `serve` (shared database), and for distributed mode,
// where ready work also goes to the work outbox (what `taskexec api` and `taskexec worker` run).
describe.runIf(available).each([
  { mode: "postgres", outbox: false },
  { mode: "postgres, outbox (distributed mode)", outbox: true },
])("PostgreSQL ($mode)", ({ mode, outbox }) => {
  describeTaskStoreContract(mode, async ({ onReady }) => {
    const db = await createTestDatabase();
    let store = await openPostgresTaskStore({ url: db.url, node: "test-node", onReady, outbox });
    const pool = createPool({ url: db.url, max: 1 });
    return {
      get store() {
        return store;
      },
      reopen: async (seal) => {
        await store.close();
        store = await openPostgresTaskStore({ url: db.url, node: "test-node", onReady, outbox, seal });
        return store;
      },
      migrate: async (direction) => {
        const { error } = await migratePostgres(pool, direction);
        if (error) throw error;
      },
      migrationNames: async () =>
        (await postgresMigrationStatus(pool)).map((m) => ({
          name: m.name,
          applied: m.executedAt !== undefined,
        })),
      cleanup: async () => {
        await store.close().catch(() => {});
        await pool.end();
        await db.drop();
      },
    };
  });
});
