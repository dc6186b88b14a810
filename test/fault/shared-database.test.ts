// Several `serve` processes on one PostgreSQL database (SPEC §4, shared database): real binaries,
// a database of their own per test, SIGKILL for crashes.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adminHeaders,
  brokenLogs,
  type Member,
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

describe.runIf(available)("several serve processes on one PostgreSQL database", () => {
  let db: TestDatabase;
  let tmp: ReturnType<typeof tempDir>;
  let runLog: string;
  beforeEach(async () => {
    db = await createTestDatabase();
    tmp = tempDir();
    runLog = join(tmp.dir, "runs.log");
    writeFileSync(runLog, "");
  });
  afterEach(async () => {
    killServes();
    await db.drop();
    tmp.remove();
  });

  const member = (name: string, extra: Record<string, string> = {}) =>
    startMember(tmp.dir, name, db.url, { RUN_LOG: runLog, ...extra }, ["--handlers", HANDLERS]);
  const runs = () =>
    readFileSync(runLog, "utf8")
      .trim()
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [task, attempt, pid] = line.split(" ");
        return { task: task!, attempt: Number(attempt), pid: Number(pid) };
      });
  const countStates = () =>
    withDatabase(db.url, async (c) => {
      const { rows } = await c.query<{ state: string; n: number }>(
        "SELECT state, count(*)::int AS n FROM tasks GROUP BY state",
      );
      return Object.fromEntries(rows.map((r) => [r.state, r.n]));
    });

  it("share 3,000 tasks; the one not submitted to is SIGKILLed mid-run and restarted: all complete, logs gapless, reruns only of what it held", async () => {
    const slots = "40";
    const a = await member("a", { TASKEXEC_MAX_CONCURRENT_TASKS: slots });
    const b = await member("b", { TASKEXEC_MAX_CONCURRENT_TASKS: slots });
    const headers = await adminHeaders();
    for (let batch = 0; batch < 3; batch++) {
      const messages = Array.from({ length: 1000 }, (_, i) =>
        submitMessage("logged", { ms: 20 }, `m-${batch}-${i}`, i % 10),
      );
      const response = await fetch(`${a.url}/v1/tasks/batch`, {
        method: "POST",
        headers,
        body: JSON.stringify({ messages }),
      });
      expect(response.status).toBe(207);
    }
    const bPid = b.process.child.pid!;
    await waitFor("b to run 200 tasks", async () => runs().filter((r) => r.pid === bPid).length >= 200);
    b.process.child.kill("SIGKILL");
    await b.process.exited;
    const atKill = runs().filter((r) => r.pid === bPid);
    const b2 = await member("b", { TASKEXEC_MAX_CONCURRENT_TASKS: slots }); // restarted
    await waitFor(
      "every task to complete",
      async () => (await countStates()).completed === 3000,
      120_000,
      250,
    );

    expect(await countStates()).toEqual({ completed: 3000 });
    await withDatabase(db.url, async (c) => expect(await brokenLogs(c)).toEqual([]));
    const all = runs();
    const perTask = new Map<string, number>();
    for (const run of all) perTask.set(run.task, (perTask.get(run.task) ?? 0) + 1);
    expect(perTask.size).toBe(3000);
    const twice = [...perTask].filter(([, n]) => n > 1).map(([task]) => task);
    // Only tasks the dead process had started ran again, and no more than it could hold at once.
    const heldByDead = new Set(atKill.map((r) => r.task));
    expect(twice.filter((task) => !heldByDead.has(task))).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(Number(slots));
    // Both processes worked: the work was shared.
    expect(all.filter((r) => r.pid === a.process.child.pid).length).toBeGreaterThan(300);
    expect(atKill.length).toBeGreaterThanOrEqual(200);
    // The attempts the dead process left were counted as lost leases, once, by whichever process
    // recovered them: at least every task that ran again, at most what it could run at once.
    const lost = await Promise.all(
      [a, b2].map(async (m) => {
        const text = await (await fetch(`${m.url}/metrics`)).text();
        return Number(/^taskexec_leases_lost_total (\d+)$/m.exec(text)?.[1]);
      }),
    );
    const leasesLost = lost[0]! + lost[1]!;
    expect(leasesLost).toBeGreaterThanOrEqual(Math.max(1, twice.length));
    expect(leasesLost).toBeLessThanOrEqual(Number(slots));
  }, 180_000);

  it("list every node in /v1/resources of any of them; a killed one goes dead after three missed heartbeats", async () => {
    const beat = { TASKEXEC_HEARTBEAT_MS: "200" };
    const [a, b] = await Promise.all([member("a", beat), member("b", beat)]);
    const headers = await adminHeaders();
    const nodes = async (m: Member) =>
      (
        (await (await fetch(`${m.url}/v1/resources`, { headers })).json()) as {
          nodes: { node: string; alive: boolean; capacity: Record<string, number> }[];
        }
      ).nodes;
    const bPid = String(b.process.child.pid);
    await waitFor("a to list b", async () =>
      (await nodes(a)).some((n) => n.node.includes(`:${bPid}:`) && n.alive),
    );
    const fromB = await nodes(b);
    expect(fromB).toHaveLength(2);
    expect(fromB.every((n) => n.alive && typeof n.capacity.cpu === "number")).toBe(true);
    b.process.child.kill("SIGKILL");
    await b.process.exited;
    await waitFor("a to call b dead", async () =>
      (await nodes(a)).some((n) => n.node.includes(`:${bPid}:`) && !n.alive),
    );
    expect((await nodes(a)).filter((n) => n.alive)).toHaveLength(1);
  }, 60_000);

  it("show the whole cluster's activity in /v1/stats of either process, whichever ran what", async () => {
    const few = { TASKEXEC_MAX_CONCURRENT_TASKS: "4" }; // so that neither can take it all
    const [a, b] = await Promise.all([member("a", few), member("b", few)]);
    const headers = await adminHeaders();
    const messages = Array.from({ length: 200 }, (_, i) => submitMessage("logged", { ms: 50 }, `s-${i}`));
    const response = await fetch(`${a.url}/v1/tasks/batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages }),
    });
    expect(response.status).toBe(207);
    await waitFor("every task to complete", async () => (await countStates()).completed === 200);
    const ranOn = new Set(runs().map((r) => r.pid));
    expect(ranOn).toEqual(new Set([a.process.child.pid, b.process.child.pid]));
    const totals = async (m: Member) => {
      const stats = (await (await fetch(`${m.url}/v1/stats`, { headers })).json()) as {
        window: { submitted_per_s: number; completed_per_s: number; execution_ms: unknown };
      };
      const seconds = 15 * 60;
      return {
        submitted: Math.round(stats.window.submitted_per_s * seconds),
        completed: Math.round(stats.window.completed_per_s * seconds),
        timed: stats.window.execution_ms !== null,
      };
    };
    // b accepted nothing and ran only part of the work, yet its charts count it all.
    await waitFor("b's charts to count every task", async () => (await totals(b)).completed === 200, 20_000);
    expect(await totals(b)).toEqual({ submitted: 200, completed: 200, timed: true });
    expect(await totals(a)).toEqual({ submitted: 200, completed: 200, timed: true });
  }, 60_000);

  it("hold a principal to limits.submit_per_minute across both processes, counted once in the database (issue 25.12)", async () => {
    const limit = { TASKEXEC_LIMITS__SUBMIT_PER_MINUTE: "10" };
    const [a, b] = await Promise.all([member("a", limit), member("b", limit)]);
    const headers = await adminHeaders();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const target = i % 2 === 0 ? a : b;
      const response = await fetch(`${target.url}/v1/tasks`, {
        method: "POST",
        headers,
        body: JSON.stringify(submitMessage("logged", { ms: 0 }, `rate-${i}`)),
      });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    const accepted = statuses.filter((s) => s === 202).length;
    // A burst of 10, plus what refilled while the 40 went out (10 a minute).
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThanOrEqual(11);
    expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
    // The batch route counts each message.
    const batch = await fetch(`${b.url}/v1/tasks/batch`, {
      method: "POST",
      headers,
      body: JSON.stringify({ messages: [submitMessage("logged", { ms: 0 }, "rate-batch")] }),
    });
    expect(((await batch.json()) as { results: { status: number }[] }).results[0]!.status).toBe(429);
  }, 60_000);

  it("create one task for concurrent submits of the same message_id to both processes", async () => {
    const [a, b] = await Promise.all([member("a"), member("b")]);
    const headers = await adminHeaders();
    const post = (m: Member, messageId: string) =>
      fetch(`${m.url}/v1/tasks`, {
        method: "POST",
        headers,
        body: JSON.stringify(submitMessage("logged", { ms: 0 }, messageId)),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { header: { task_id: string } } }));
    for (let round = 0; round < 100; round++) {
      const id = `same-${round}`;
      const [fromA, fromB] = await Promise.all([post(a, id), post(b, id)]);
      expect([fromA.status, fromB.status].sort()).toEqual([200, 202]);
      expect(fromA.body.header.task_id).toBe(fromB.body.header.task_id);
    }
    const counts = await withDatabase(db.url, async (c) => {
      const { rows } = await c.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM tasks GROUP BY submitter, message_id ORDER BY n DESC LIMIT 1",
      );
      const total = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM tasks");
      return { most: rows[0]!.n, total: total.rows[0]!.n };
    });
    expect(counts).toEqual({ most: 1, total: 100 });
  }, 60_000);

  it("never start one task twice when 4 processes race for it, over 1,000 rounds", async () => {
    const members = await Promise.all(["a", "b", "c", "d"].map((name) => member(name)));
    const headers = await adminHeaders();
    await withDatabase(db.url, async (c) => {
      for (let round = 0; round < 1000; round++) {
        const target = members[round % members.length]!;
        const response = await fetch(`${target.url}/v1/tasks`, {
          method: "POST",
          headers,
          body: JSON.stringify(submitMessage("logged", { ms: 0 }, `race-${round}`)),
        });
        expect(response.status).toBe(202);
        const { header } = (await response.json()) as { header: { task_id: string } };
        await waitFor(
          `round ${round} to finish`,
          async () =>
            (await c.query("SELECT 1 FROM tasks WHERE id = $1 AND state = 'completed'", [header.task_id]))
              .rowCount === 1,
          20_000,
          2,
        );
      }
      const starts = await c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM task_events
         WHERE details LIKE '%"event":"execution_started"%' GROUP BY task_id ORDER BY n DESC LIMIT 1`,
      );
      expect(starts.rows[0]!.n).toBe(1);
    });
    const perTask = new Map<string, number>();
    for (const run of runs()) perTask.set(run.task, (perTask.get(run.task) ?? 0) + 1);
    expect(perTask.size).toBe(1000);
    expect(Math.max(...perTask.values())).toBe(1);
    // All four took part.
    expect(new Set(runs().map((r) => r.pid)).size).toBeGreaterThan(1);
  }, 180_000);
});
