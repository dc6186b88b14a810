import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { HttpTaskClient } from "../../../src/client/http-task-client.js";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { defineHandler } from "../../../src/handlers/handler.js";
import { PermanentError } from "../../../src/protocol/errors.js";
import { isTerminal } from "../../../src/protocol/states.js";
import type { TaskStatus } from "../../../src/protocol/task-status.js";
import { newDataKey } from "../../../src/security/data-cipher.js";
import { signToken } from "../../../src/security/token-signer.js";
import type { TaskClientApi } from "../../../src/client/task-client.js";
import { adminHeaders, startDistributed } from "../../helpers/cluster.js";
import {
  createTestDatabase,
  POSTGRES_ADMIN_URL,
  postgresForTests,
  type TestDatabase,
} from "../../helpers/postgres.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";
import { killServes } from "../../helpers/serve.js";
import { type ServiceHarness, startTestService, TEST_SECRET } from "../../helpers/service.js";
import { tempDir } from "../../helpers/temp.js";

// Encryption at rest (issue 26.4): a canary written through every path — HTTP, the library, the
// broker — into parameters, results, errors, status details and audit payloads is in no byte of
// the SQLite file or its WAL, and in no PostgreSQL row or WAL segment; the same run without a
// data key finds it there (the scan can see it when it is there).

const echo = defineHandler({ type: "echo", run: ({ parameters }) => Promise.resolve(parameters) });
const failWith = defineHandler({
  type: "fail_with",
  run: ({ parameters }) => Promise.reject(new PermanentError(String(parameters.message))),
});
const HANDLERS = fileURLToPath(new URL("../fixtures/canary-handlers.mjs", import.meta.url));

async function ended(client: TaskClientApi, id: string): Promise<TaskStatus> {
  for await (const status of client.watch(id)) if (isTerminal(status.body.status)) return status;
  throw new Error(`the watch of ${id} ended before the task`);
}

/**
 * Writes the canary everywhere a client can put it: parameters echoed into a result, an error
 * message, a cancel's reason (its status details, its error and its audit record).
 */
async function writeCanary(client: TaskClientApi, canary: string, label: string): Promise<void> {
  const done = await client.submit({ type: "echo", parameters: { secret: `${canary}-${label}-params` } });
  const failed = await client.submit({
    type: "fail_with",
    parameters: { message: `${canary}-${label}-error` },
  });
  const slow = await client.submit({ type: "sleep", parameters: { ms: 60_000 } });
  await client.cancel(slow.id, `${canary}-${label}-reason`);
  expect((await ended(client, done.id)).body.details?.result).toEqual({
    secret: `${canary}-${label}-params`,
  });
  expect((await ended(client, failed.id)).body.status).toBe("failed");
  // The owner reads it all back in clear.
  expect((await client.get(done.id)).parameters).toEqual({ secret: `${canary}-${label}-params` });
  expect(JSON.stringify(await client.get(failed.id))).toContain(`${canary}-${label}-error`);
}

describe("a canary at rest, embedded (SQLite file and WAL)", () => {
  const services: ServiceHarness[] = [];
  afterAll(async () => {
    for (const s of services) await s.cleanup();
  });

  for (const sealed of [true, false]) {
    it(
      sealed
        ? "is in no byte of the file or its WAL under security.data_key"
        : "is there without a data key (the control)",
      async () => {
        const canary = `canary-${randomUUID()}`;
        const h = await startTestService({
          handlers: [echo, failWith],
          ...(sealed ? { security: { data_key: newDataKey() } } : {}),
        });
        services.push(h);
        const token = await h.token("alice", ["submitter"]);
        await writeCanary(new HttpTaskClient({ url: h.url, token }), canary, "http");
        await writeCanary(h.service.executor.client({ principal: "alice" }), canary, "library");
        const file = join(h.dataDir, "taskexec.db");
        const bytes = () =>
          [file, `${file}-wal`]
            .filter(existsSync)
            .map((f) => ({ f, found: readFileSync(f).includes(canary) }));
        const running = bytes();
        await h.service.close(0);
        const closed = bytes();
        const anywhere = [...running, ...closed].some((b) => b.found);
        expect(anywhere, JSON.stringify({ running, closed })).toBe(!sealed);
      },
    );
  }
});

const pgAvailable = await postgresForTests();
const rabbitAvailable = pgAvailable && (await rabbitForTests());

/** Every row of every table of the database, as text. */
async function allRows(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    let text = "";
    for (const { name } of tables.rows)
      text += (await client.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`)).rows
        .map((r) => r.row)
        .join("\n");
    return text;
  } finally {
    await client.end();
  }
}

/** Whether any WAL segment written since `since` holds the canary's bytes. */
async function inWal(canary: string, since: Date): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    // What was written is in the segments once flushed: switch, so the last one is complete too.
    await client.query("SELECT pg_switch_wal()");
    const segments = await client.query<{ name: string }>(
      "SELECT name FROM pg_ls_waldir() WHERE modification >= $1 AND name ~ '^[0-9A-F]{24}$' ORDER BY name",
      [new Date(since.getTime() - 1000)],
    );
    expect(segments.rows.length).toBeGreaterThan(0);
    const needle = Buffer.from(canary);
    for (const { name } of segments.rows) {
      const { rows } = await client.query<{ bytes: Buffer }>(
        "SELECT pg_read_binary_file('pg_wal/' || $1) AS bytes",
        [name],
      );
      if (rows[0]!.bytes.includes(needle)) return true;
    }
    return false;
  } finally {
    await client.end();
  }
}

describe.runIf(pgAvailable)("a canary at rest, PostgreSQL (rows and WAL)", () => {
  const databases: TestDatabase[] = [];
  const services: ServiceHarness[] = [];
  afterAll(async () => {
    for (const s of services) await s.cleanup();
    await Promise.all(databases.map((d) => d.drop()));
  });

  for (const sealed of [true, false]) {
    it(
      sealed
        ? "is in no row and no WAL segment under security.data_key (shared database)"
        : "is there without a data key (the control)",
      async () => {
        const since = new Date();
        const canary = `canary-${randomUUID()}`;
        const db = await createTestDatabase();
        databases.push(db);
        const h = await startTestService({
          handlers: [echo, failWith],
          store: { url: db.url },
          ...(sealed ? { security: { data_key: newDataKey() } } : {}),
        });
        services.push(h);
        const token = await h.token("alice", ["submitter"]);
        await writeCanary(new HttpTaskClient({ url: h.url, token }), canary, "http");
        await writeCanary(h.service.executor.client({ principal: "alice" }), canary, "library");
        expect((await allRows(db.url)).includes(canary)).toBe(!sealed);
        expect(await inWal(canary, since)).toBe(!sealed);
      },
    );
  }
});

describe.runIf(rabbitAvailable)("a canary at rest, distributed (through the broker)", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  const tmp = tempDir();
  afterAll(async () => {
    killServes();
    await Promise.all([db?.drop(), vhost?.remove()]);
    tmp.remove();
  });

  it("is in no row and no WAL segment when api and worker run with the data key", async () => {
    const since = new Date();
    const canary = `canary-${randomUUID()}`;
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const urls = { database: db.url, broker: vhost.url };
    const env = { TASKEXEC_SECURITY__DATA_KEY: newDataKey(), TASKEXEC_HEARTBEAT_MS: "300" };
    const api = await startDistributed("api", tmp.dir, "api", urls, env);
    await startDistributed("worker", tmp.dir, "worker", urls, env, ["--handlers", HANDLERS]);
    for (let i = 0; i < 100; i++) {
      const { nodes } = (await (
        await fetch(`${api.url}/v1/resources`, { headers: await adminHeaders() })
      ).json()) as {
        nodes?: unknown[];
      };
      if ((nodes ?? []).length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "10m" });
    const client = new TaskClient({ url: vhost.url, token, api: api.url, answerTimeoutMs: 10_000 });
    try {
      await writeCanary(client, canary, "broker");
    } finally {
      await client.close();
    }
    expect((await allRows(db.url)).includes(canary)).toBe(false);
    expect(await inWal(canary, since)).toBe(false);
  }, 60_000);
});
