import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createExecutor } from "../../../src/executor.js";
import { defineHandler } from "../../../src/handlers/handler.js";
import { collect, events, type Harness, startExecutor, until } from "../../helpers/executor.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("resources in the lifecycle", () => {
  it("makes a task wait for resources, then runs it when they free up", async () => {
    h = await startExecutor({ resources: { cpu: 2 } });
    const client = h.executor.client();
    const hog = await client.submit({ type: "sleep", parameters: { ms: 300 }, requirements: { cpu: 2 } });
    await until(async () => (await client.get(hog.id)).state === "executing");
    const next = await client.submit({ type: "noop", requirements: { cpu: 1 } });
    const statuses = await collect(client.watch(next.id));
    expect(statuses.map((s) => s.body.status)).toEqual([
      "resource_allocation",
      "waiting",
      "resource_allocation",
      "executing",
      "completing",
      "completed",
    ]);
    expect(events(statuses)).toContain("resources_waiting");
    const started = statuses.find((s) => s.body.details?.event === "execution_started")!;
    expect(Date.parse(started.header.timestamp)).toBeGreaterThanOrEqual(
      Date.parse((await client.get(hog.id)).finished_at!) - 5,
    );
    expect((await client.get(next.id)).allocation).toMatchObject({ amounts: { cpu: 1 } });
    expect(h.executor.resources()[0]).toMatchObject({ allocated: { cpu: 0 }, running: 0, waiting: 0 });
  });

  it("retries an allocation timeout as resource_unavailable, and fails when attempts run out", async () => {
    h = await startExecutor({ resources: { cpu: 1 }, allocation_timeout_ms: 80 });
    const client = h.executor.client();
    await client.submit({ type: "sleep", parameters: { ms: 2000 }, requirements: { cpu: 1 } });
    const starved = await client.submit({ type: "noop", requirements: { cpu: 1 }, maxAttempts: 2 });
    const statuses = await collect(client.watch(starved.id));
    const retry = statuses.find((s) => s.body.details?.event === "retry_scheduled")!;
    expect(retry.body.details?.error).toMatchObject({ code: "resource_unavailable", retryable: true });
    const last = statuses[statuses.length - 1]!;
    expect(last.body).toMatchObject({
      status: "failed",
      details: { attempt: 2, error: { code: "resource_unavailable" } },
    });
  });

  it("rejects requirements no node can satisfy with resource_unsatisfiable", async () => {
    h = await startExecutor({ resources: { cpu: 2, gpu: 0 } });
    const error = await h.executor
      .client()
      .submit({ type: "noop", requirements: { gpu: 1 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "resource_unsatisfiable" });
  });

  it("never runs more than max_concurrent_tasks at once", async () => {
    h = await startExecutor({ max_concurrent_tasks: 3 });
    const client = h.executor.client();
    const results = await client.submitMany(
      Array.from({ length: 12 }, () => ({ type: "sleep", parameters: { ms: 40 } })),
    );
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, h!.executor.resources()[0]!.running);
    }, 2);
    for (const r of results) if (r.ok) await collect(client.watch(r.id));
    clearInterval(poll);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(3);
  });
});

describe("slots", () => {
  it("gives a finished handler's slot to the next task at once: its start is written with the outcome", async () => {
    let running = 0;
    let peak = 0;
    const counted = defineHandler({
      type: "counted",
      run: async () => {
        peak = Math.max(peak, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        return {};
      },
    });
    h = await startExecutor({ max_concurrent_tasks: 1, handlers: [counted] }, false);
    const seen: string[] = [];
    h.executor.engine.observe({
      onStatus: (task, status) => {
        const event = status.body.details?.event;
        if (event === "execution_started" || event === "task_completed") seen.push(`${event}:${task.id}`);
      },
      onRejected: () => {},
    });
    const client = h.executor.client();
    const results = await client.submitMany(Array.from({ length: 5 }, () => ({ type: "counted" })));
    await h.executor.start();
    for (const r of results) if (r.ok) await collect(client.watch(r.id));
    expect(peak).toBe(1); // one handler at a time, as max_concurrent_tasks says
    // Each next task's start was durable (and announced) with the previous task's completion,
    // not one transaction later.
    const ids = results.map((r) => (r.ok ? r.id : ""));
    for (let i = 1; i < ids.length; i++) {
      expect(seen.indexOf(`execution_started:${ids[i]}`)).toBeLessThan(
        seen.indexOf(`task_completed:${ids[i - 1]}`),
      );
    }
  });
});

describe("stop and restart", () => {
  it("gives running tasks their grace, requeues the rest, and a restart finishes them", async () => {
    h = await startExecutor({ max_concurrent_tasks: 2 });
    const client = h.executor.client();
    const quick = await client.submit({ type: "sleep", parameters: { ms: 50 } });
    const long = await client.submit({ type: "sleep", parameters: { ms: 1500 } });
    const queued = await client.submit({ type: "noop" });
    await until(async () => (await client.get(long.id)).state === "executing");
    await h.executor.stop({ graceMs: 300 });
    expect(h.executor.state).toBe("stopped");

    const again = await createExecutor({
      store: { url: `sqlite:${h.dbPath}` },
      logging: { level: "silent" },
      retry: { base_ms: 20, max_ms: 100 },
    });
    try {
      const snapshot = await again.client({ admin: true }).get(long.id);
      expect(snapshot.state).toBe("waiting");
      expect(snapshot.attempts).toBe(0); // the interrupted attempt was given back
      await again.start();
      const c = again.client();
      for (const id of [quick.id, long.id, queued.id]) {
        const statuses = await collect(c.watch(id), 15_000);
        expect(statuses[statuses.length - 1]!.body.status).toBe("completed");
        expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
      }
      const longStatuses = await c.get(long.id);
      expect(longStatuses.attempts).toBe(1);
    } finally {
      await again.stop({ graceMs: 0 });
    }
  });
});

describe("deadlines while waiting for resources", () => {
  it("fails a task at its deadline even while it waits for resources", async () => {
    h = await startExecutor({ resources: { cpu: 1 }, allocation_timeout_ms: 60_000 });
    const client = h.executor.client();
    await client.submit({ type: "sleep", parameters: { ms: 1500 }, requirements: { cpu: 1 } });
    const waiter = await client.submit({
      type: "noop",
      requirements: { cpu: 1 },
      deadline: new Date(Date.now() + 200),
    });
    const started = Date.now();
    const statuses = await collect(client.watch(waiter.id));
    expect(statuses.map((s) => s.body.status)).toEqual(["resource_allocation", "waiting", "failed"]);
    expect(statuses[2]!.body.details?.error?.code).toBe("deadline_exceeded");
    expect(Date.now() - started).toBeLessThan(1200);
    expect(h.executor.resources()[0]!.waiting).toBe(0);
  });
});

describe("leases", () => {
  it("renews the lease of a running task, and drops it when the task ends", async () => {
    h = await startExecutor({ lease_ms: 300 });
    const reader = new Database(h.dbPath, { readonly: true });
    try {
      const lease = reader.prepare(
        "SELECT lease_owner AS owner, lease_expires_at AS expires FROM tasks WHERE id = ?",
      );
      const client = h.executor.client();
      const task = await client.submit({ type: "sleep", parameters: { ms: 900 } });
      await until(async () => (await client.get(task.id)).state === "executing");
      const first = lease.get(task.id) as { owner: string; expires: number };
      expect(first.owner).toBe(h.executor.node);
      // Once the first lease has run out, the running task still holds one: it was renewed.
      await until(async () => Date.now() > first.expires + 20);
      const later = lease.get(task.id) as { owner: string; expires: number };
      expect(later.owner).toBe(h.executor.node);
      expect(later.expires).toBeGreaterThan(first.expires);
      expect(later.expires).toBeGreaterThan(Date.now());
      await collect(client.watch(task.id));
      expect(lease.get(task.id)).toEqual({ owner: null, expires: null });
    } finally {
      reader.close();
    }
  });
});
