import { describe } from "vitest";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import { PostgresStatusFeed } from "../../src/transport/postgres/postgres-status-feed.js";
import { createTestDatabase, postgresForTests, terminateSessions } from "../helpers/postgres.js";
import { describeStatusFeedContract } from "./status-feed.contract.js";

const available = await postgresForTests();

describe.runIf(available)("PostgreSQL", () => {
  describeStatusFeedContract("postgres", async () => {
    const db = await createTestDatabase();
    const own = await openPostgresTaskStore({ url: db.url, node: "node-a" });
    const other = await openPostgresTaskStore({ url: db.url, node: "node-b" });
    const feed = await PostgresStatusFeed.open({
      url: db.url,
      node: "node-a",
      read: (keys) => own.observeStatuses(keys),
      onError: () => {},
    });
    return {
      feed,
      own,
      other,
      cut: () => terminateSessions(db.url, "taskexec-listen"),
      cleanup: async () => {
        await feed.close();
        await own.close();
        await other.close();
        await db.drop();
      },
    };
  });
});
