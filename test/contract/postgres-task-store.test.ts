import { describe } from "vitest";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import { migratePostgres, postgresMigrationStatus } from "../../src/store/postgres/postgres-migrator.js";
import { createPool } from "../../src/store/postgres/postgres-pool.js";
import { createTestDatabase, postgresForTests } from "../helpers/postgres.js";
import { describeTaskStoreContract } from "./task-store.contract.js";

const available = await postgresForTests();

describe.runIf(available)("PostgreSQL", () => {
  describeTaskStoreContract("postgres", async ({ onReady }) => {
    const db = await createTestDatabase();
    const store = await openPostgresTaskStore({ url: db.url, node: "test-node", onReady });
    const pool = createPool({ url: db.url, max: 1 });
    return {
      store,
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
