// RabbitMQ, then PostgreSQL, restarted under an api and two workers (real binaries, the machine's
// real servers). It runs alone (npm run test:soak): every other broker or database test would see
// the outages.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { AmqpConnection } from "../../src/transport/amqp/amqp-connection.js";
import { AmqpStatusBus } from "../../src/transport/amqp/amqp-status-bus.js";
import {
  adminHeaders,
  brokenLogs,
  probe,
  type Member,
  startDistributed,
  submitMessage,
  waitFor,
  withDatabase,
} from "../helpers/cluster.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../helpers/postgres.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../helpers/rabbitmq.js";
import { killServes } from "../helpers/serve.js";
import { tempDir } from "../helpers/temp.js";

const HANDLERS = join(import.meta.dirname, "fixtures", "run-log-handler.mjs");
const available = (await postgresForTests()) && (await rabbitForTests());

function postgres(action: "start" | "stop"): void {
  const version = readdirSync("/etc/postgresql")[0]!;
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", action], { stdio: "ignore" });
}

function rabbit(action: "stop_app" | "start_app"): void {
  execFileSync("rabbitmqctl", [action], { stdio: "ignore" });
  if (action === "start_app") execFileSync("rabbitmqctl", ["await_startup"], { stdio: "ignore" });
}

describe.runIf(available)("RabbitMQ and PostgreSQL restarted under an api and two workers", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    tmp = tempDir();
  });
  afterEach(async () => {
    killServes();
    // Whatever happened, the machine's servers are left running.
    try {
      rabbit("start_app");
    } catch {
      // running already
    }
    try {
      postgres("start");
    } catch {
      // running already
    }
    await waitFor("PostgreSQL", async () => {
      try {
        await withDatabase(db.url, async () => {});
        return true;
      } catch {
        return false;
      }
    });
    await Promise.all([db.drop(), vhost.remove()]);
    tmp.remove();
  });

  it("reconnect by themselves, finish everything accepted, say not ready while either is away, and never publish one position of a task's log as two different statuses", async () => {
    const runLog = join(tmp.dir, "runs.log");
    const env = {
      RUN_LOG: runLog,
      TASKEXEC_LEASE_MS: "3000",
      TASKEXEC_POLL_MS: "300",
      TASKEXEC_HEARTBEAT_MS: "500",
      TASKEXEC_RETRY__MAX_ATTEMPTS: "10",
    };
    const start = (command: "api" | "worker", name: string) =>
      startDistributed(command, tmp.dir, name, { database: db.url, broker: vhost.url }, env, [
        "--handlers",
        HANDLERS,
      ]);
    const api = await start("api", "api");
    const workers = [await start("worker", "w1"), await start("worker", "w2")];
    const everyone = [api, ...workers];

    // What taskexec.status carries, heard by a listener of our own that reconnects too.
    const connection = await AmqpConnection.open({ url: vhost.url, name: "test listener" });
    const bus = await AmqpStatusBus.open(connection);
    const heard = new Map<string, TaskStatus>();
    const conflicts: string[] = [];
    await bus.subscribeAll((status) => {
      const key = `${status.header.task_id}#${status.header.sequence}`;
      const before = heard.get(key);
      if (before !== undefined && before.header.message_id !== status.header.message_id) conflicts.push(key);
      heard.set(key, status);
    });

    const headers = await adminHeaders();
    const accepted = new Set<string>();
    let refused = 0;
    let submitting = true;
    const submitter = (async () => {
      for (let i = 0; submitting; i++) {
        try {
          const response = await fetch(`${api.url}/v1/tasks`, {
            method: "POST",
            headers,
            body: JSON.stringify(submitMessage("logged", { ms: 30 }, `r-${i}`, i % 10)),
            signal: AbortSignal.timeout(15_000),
          });
          if (response.status === 202) accepted.add(`r-${i}`);
          else refused += 1;
        } catch {
          refused += 1;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const readiness = (members: Member[]) => Promise.all(members.map((m) => probe(m, "/readyz")));
    const outage = async (what: string, stop: () => void, startAgain: () => void) => {
      const before = accepted.size;
      await waitFor(
        `200 more accepted tasks before ${what} stops`,
        async () => accepted.size >= before + 200,
      );
      stop();
      await waitFor(`every process to say it is not ready without ${what}`, async () =>
        (await readiness(everyone)).every((s) => s === 503),
      );
      for (const m of everyone) expect(await probe(m, "/healthz")).toBe(200);
      await new Promise((r) => setTimeout(r, 1_000));
      startAgain();
      await waitFor(
        `every process to be ready again after ${what}`,
        async () => (await readiness(everyone)).every((s) => s === 200),
        60_000,
        250,
      );
      const after = accepted.size;
      await waitFor(`more tasks accepted after ${what} came back`, async () => accepted.size >= after + 200);
    };
    await outage(
      "RabbitMQ",
      () => rabbit("stop_app"),
      () => rabbit("start_app"),
    );
    await outage(
      "PostgreSQL",
      () => postgres("stop"),
      () => postgres("start"),
    );
    submitting = false;
    await submitter;

    await withDatabase(db.url, async (c) => {
      await waitFor(
        "every accepted task to finish",
        async () =>
          (await c.query("SELECT 1 FROM tasks WHERE state <> 'completed'")).rowCount === 0 &&
          (await c.query("SELECT 1 FROM tasks")).rowCount! >= accepted.size,
        120_000,
        250,
      );
      const { rows } = await c.query<{ message_id: string }>("SELECT message_id FROM tasks");
      const stored = new Set(rows.map((r) => r.message_id));
      expect([...accepted].filter((id) => !stored.has(id))).toEqual([]);
      expect(await brokenLogs(c)).toEqual([]);
      // What the broker carried agrees with the log: one status per position.
      const { rows: events } = await c.query<{ task_id: string; sequence: number; message_id: string }>(
        "SELECT task_id, sequence, message_id FROM task_events",
      );
      const logged = new Map(events.map((e) => [`${e.task_id}#${e.sequence}`, e.message_id]));
      const disagreeing = [...heard].filter(([key, s]) => logged.get(key) !== s.header.message_id);
      expect(disagreeing.map(([key]) => key)).toEqual([]);
    });
    expect(conflicts).toEqual([]);
    expect(heard.size).toBeGreaterThan(1_000); // the listener heard most of it
    expect(refused).toBeGreaterThan(0); // the database outage was seen by the submitter
    for (const m of everyone) expect(m.process.child.exitCode).toBeNull();
    // Each process counted the loss of its broker connection, and some the database's (issue 28.2).
    const scraped = await Promise.all(everyone.map(async (m) => (await fetch(`${m.url}/metrics`)).text()));
    for (const text of scraped) expect(text).toMatch(/^taskexec_reconnects_total\{to="broker"\} [1-9]/m);
    expect(scraped.some((text) => /^taskexec_reconnects_total\{to="database"\} [1-9]/m.test(text))).toBe(
      true,
    );
    await bus.close();
    await connection.close();
  }, 300_000);
});
