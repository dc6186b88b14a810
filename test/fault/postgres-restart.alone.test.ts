// PostgreSQL stops and starts again under two `serve` processes (real binaries, the machine's real
// server). It runs alone (npm run test:soak): every other PostgreSQL test would see the outage.
import { execFileSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminHeaders,
  brokenLogs,
  probe,
  startMember,
  submitMessage,
  waitFor,
  withDatabase,
} from "../helpers/cluster.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../helpers/postgres.js";
import { killServes } from "../helpers/serve.js";
import { tempDir } from "../helpers/temp.js";

const HANDLERS = join(import.meta.dirname, "fixtures", "run-log-handler.mjs");
const available = await postgresForTests();

function cluster(action: "start" | "stop"): void {
  const version = readdirSync("/etc/postgresql")[0]!;
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", action], { stdio: "ignore" });
}

describe.runIf(available)("PostgreSQL restarted under two serve processes", () => {
  let db: TestDatabase;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    db = await createTestDatabase();
    tmp = tempDir();
  });
  afterEach(async () => {
    killServes();
    // Whatever happened, the machine's server is left running (start refuses when it is).
    try {
      cluster("start");
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
    await db.drop();
    tmp.remove();
  });

  it("reconnect by themselves, lose nothing accepted, and say not ready while it is away", async () => {
    const runLog = join(tmp.dir, "runs.log");
    writeFileSync(runLog, "");
    const env = { RUN_LOG: runLog, TASKEXEC_LEASE_MS: "3000", TASKEXEC_POLL_MS: "300" };
    const args = ["--handlers", HANDLERS];
    const [a, b] = await Promise.all([
      startMember(tmp.dir, "a", db.url, env, args),
      startMember(tmp.dir, "b", db.url, env, args),
    ]);
    const headers = await adminHeaders();
    const accepted = new Set<string>();
    let refused = 0;
    /** Every refusal's status, code and Retry-After (issue 25.13: 503 `unavailable`, never 500). */
    const refusals = new Map<string, number>();
    let submitting = true;
    // A submitter that keeps going through the outage, alternating between the two processes.
    const submitter = (async () => {
      for (let i = 0; submitting; i++) {
        const target = i % 2 === 0 ? a : b;
        try {
          const response = await fetch(`${target.url}/v1/tasks`, {
            method: "POST",
            headers,
            body: JSON.stringify(submitMessage("logged", { ms: 30 }, `r-${i}`)),
            signal: AbortSignal.timeout(15_000),
          });
          if (response.status === 202) accepted.add(`r-${i}`);
          else {
            refused += 1;
            const { error } = (await response.json()) as { error?: { code?: string } };
            const key = `${response.status} ${error?.code} retry-after:${response.headers.get("retry-after") !== null}`;
            refusals.set(key, (refusals.get(key) ?? 0) + 1);
          }
        } catch {
          refused += 1;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor("200 accepted tasks", async () => accepted.size >= 200);
    cluster("stop");
    await waitFor("a and b to say they are not ready", async () => {
      const states = await Promise.all([a, b].map((m) => probe(m, "/readyz")));
      return states.every((s) => s === 503);
    });
    expect(await probe(a, "/healthz")).toBe(200); // alive, just not ready
    await new Promise((r) => setTimeout(r, 1_000));
    cluster("start");
    await waitFor("a and b to be ready again", async () => {
      const states = await Promise.all([a, b].map((m) => probe(m, "/readyz")));
      return states.every((s) => s === 200);
    });
    const before = accepted.size;
    await waitFor("more tasks accepted after the restart", async () => accepted.size >= before + 200);
    submitting = false;
    await submitter;

    await withDatabase(db.url, async (c) => {
      await waitFor(
        "every accepted task to finish",
        async () =>
          (await c.query("SELECT 1 FROM tasks WHERE state <> 'completed'")).rowCount === 0 &&
          (await c.query("SELECT 1 FROM tasks")).rowCount! >= accepted.size,
        90_000,
        250,
      );
      const { rows } = await c.query<{ message_id: string }>("SELECT message_id FROM tasks");
      const stored = new Set(rows.map((r) => r.message_id));
      expect([...accepted].filter((id) => !stored.has(id))).toEqual([]);
      expect(await brokenLogs(c)).toEqual([]);
    });
    expect(refused).toBeGreaterThan(0); // the outage was seen by the submitter
    // Each refusal said the store was away and when to come back, none was an internal error.
    expect([...refusals.keys()]).toEqual(["503 unavailable retry-after:true"]);
    expect(a.process.child.exitCode).toBeNull();
    expect(b.process.child.exitCode).toBeNull();
    // Each counted the loss of its database connections (issue 28.2).
    for (const m of [a, b])
      expect(await (await fetch(`${m.url}/metrics`)).text()).toMatch(
        /^taskexec_reconnects_total\{to="database"\} [1-9]/m,
      );
  }, 180_000);
});
