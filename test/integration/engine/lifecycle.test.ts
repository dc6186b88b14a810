import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { dataProcessing } from "../../../examples/data_processing.js";
import { defineHandler } from "../../../src/handlers/handler.js";
import { TaskRejectedError } from "../../../src/protocol/errors.js";
import { collect, events, type Harness, startExecutor, summary, until } from "../../helpers/executor.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

describe("task lifecycle (embedded, real SQLite)", () => {
  it("runs the seed's example to completed with the protocol's event order", async () => {
    h = await startExecutor({ handlers: [dataProcessing] });
    const client = h.executor.client();
    const task = await client.submit({
      type: "data_processing",
      parameters: { input_source: "data_stream_1", processing_steps: ["validate", "transform", "aggregate"] },
      priority: 1,
      deadline: new Date(Date.now() + 30 * 60_000),
    });
    expect(task.status.body).toMatchObject({
      status: "resource_allocation",
      details: { event: "task_accepted" },
    });
    const statuses = await collect(client.watch(task.id));
    expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
    expect(events(statuses)).toEqual([
      "task_accepted",
      "execution_started",
      "progress_update",
      "progress_update",
      "progress_update",
      "task_completed",
    ]);
    expect(
      statuses.every(
        (s) => s.header.task_id === task.id && s.header.reference_id === statuses[0]!.header.reference_id,
      ),
    ).toBe(true);
    const done = statuses[statuses.length - 1]!;
    expect(done.body).toMatchObject({ status: "completed", progress: 1 });
    expect(done.body.details?.result).toMatchObject({ records_in: 1000, summary: { count: 989 } });
    const snapshot = await client.get(task.id);
    expect(snapshot).toMatchObject({
      state: "completed",
      attempts: 1,
      progress: 1,
      sequence: statuses.length,
    });
    expect(snapshot.finished_at).not.toBeNull();
  });

  it("runs the example on a stream of 300,000 records (found: the aggregate overflowed the stack)", async () => {
    h = await startExecutor({ handlers: [dataProcessing] });
    const client = h.executor.client();
    const task = await client.submit({
      type: "data_processing",
      parameters: { input_source: "big", processing_steps: ["validate", "aggregate"], records: 300_000 },
    });
    const statuses = await collect(client.watch(task.id));
    const done = statuses[statuses.length - 1]!;
    expect(done.body.status).toBe("completed");
    const summary = (done.body.details?.result as { summary: { count: number; min: number; max: number } })
      .summary;
    expect(summary.count).toBeGreaterThan(290_000);
    expect(summary.min).toBeLessThanOrEqual(summary.max);
  });

  it("rejects a submission with every issue and its path, and stores nothing", async () => {
    h = await startExecutor({ handlers: [dataProcessing] });
    const client = h.executor.client();
    const error = await client
      .submit({
        type: "data_processing",
        parameters: { input_source: "", processing_steps: ["explode"] },
        priority: 1,
        requirements: { cpu: 64, fpga: 1 },
        deadline: new Date(Date.now() - 1000),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskRejectedError);
    const paths = (error as TaskRejectedError).issues.map((i) => i.path).sort();
    expect(paths).toEqual([
      "body.deadline",
      "body.task_specification.parameters.input_source",
      "body.task_specification.parameters.processing_steps[0]",
      "body.task_specification.requirements.cpu",
      "body.task_specification.requirements.fpga",
    ]);
    expect((await client.list()).tasks).toEqual([]);
  });

  it("rejects an unknown task type with handler_not_found", async () => {
    h = await startExecutor();
    const outcome = await h.executor.engine.submit(
      { id: "alice" },
      {
        type: "submit_task",
        header: { message_id: "m-1", timestamp: new Date().toISOString() },
        body: { task_specification: { type: "nope", parameters: {} }, priority: 3 },
      },
    );
    expect(outcome.kind).toBe("rejected");
    expect(outcome.status.header).toMatchObject({ task_id: null, reference_id: "m-1", sequence: 1 });
    expect(outcome.status.body.details?.error?.code).toBe("handler_not_found");
    expect(outcome.status.body.details?.errors?.[0]?.path).toBe("body.task_specification.type");
  });

  it("retries a failing attempt with backoff, then succeeds", async () => {
    h = await startExecutor();
    const client = h.executor.client();
    const task = await client.submit({ type: "sleep", parameters: { ms: 5, fail_attempts: 2 } });
    const statuses = await collect(client.watch(task.id));
    expect(events(statuses).filter((e) => e === "retry_scheduled")).toHaveLength(2);
    const retries = statuses.filter((s) => s.body.details?.event === "retry_scheduled");
    for (const retry of retries) {
      expect(retry.body.status).toBe("waiting");
      expect(retry.body.details?.error).toMatchObject({ code: "handler_error", retryable: true });
      expect(Date.parse(retry.body.details!.retry_at!)).toBeGreaterThan(Date.parse(retry.header.timestamp));
    }
    expect(
      statuses
        .filter((s) => s.body.details?.event === "execution_started")
        .map((s) => s.body.details?.attempt),
    ).toEqual([1, 2, 3]);
    expect(statuses[statuses.length - 1]!.body.status).toBe("completed");
  });

  it("fails a task whose attempts are exhausted", async () => {
    h = await startExecutor();
    const client = h.executor.client();
    const task = await client.submit({
      type: "sleep",
      parameters: { ms: 1, fail_attempts: 10 },
      maxAttempts: 2,
    });
    const statuses = await collect(client.watch(task.id));
    const last = statuses[statuses.length - 1]!;
    expect(last.body).toMatchObject({
      status: "failed",
      details: { event: "task_failed", attempt: 2, error: { code: "handler_error" } },
    });
    expect((await client.get(task.id)).attempts).toBe(2);
  });

  it("does not retry a PermanentError", async () => {
    h = await startExecutor();
    const client = h.executor.client();
    const task = await client.submit({
      type: "sleep",
      parameters: { ms: 1, fail_attempts: 1, permanent: true },
    });
    const statuses = await collect(client.watch(task.id));
    expect(events(statuses)).toEqual([
      "task_accepted",
      "execution_started",
      "progress_update",
      "task_failed",
    ]);
    expect(statuses[statuses.length - 1]!.body.details?.error).toMatchObject({
      code: "handler_error",
      retryable: false,
    });
  });

  it("aborts a running task at its deadline: the handler sees its signal", async () => {
    let sawAbort: unknown;
    const slow = defineHandler({
      type: "slow",
      run: ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener("abort", () => {
            sawAbort = signal.reason;
            reject(signal.reason);
          });
        }),
    });
    h = await startExecutor({ handlers: [slow] });
    const client = h.executor.client();
    const task = await client.submit({ type: "slow", deadline: new Date(Date.now() + 300) });
    const statuses = await collect(client.watch(task.id));
    const last = statuses[statuses.length - 1]!;
    expect(last.body).toMatchObject({
      status: "failed",
      details: { error: { code: "deadline_exceeded", retryable: false } },
    });
    expect(sawAbort).toBeDefined();
  });

  it("fails a queued task whose deadline passes before it can run", async () => {
    h = await startExecutor({ max_concurrent_tasks: 1 });
    const client = h.executor.client();
    const blocker = await client.submit({ type: "sleep", parameters: { ms: 600 } });
    const late = await client.submit({ type: "noop", deadline: new Date(Date.now() + 150) });
    const statuses = await collect(client.watch(late.id));
    expect(statuses.map((s) => s.body.status)).toEqual(["resource_allocation", "waiting", "failed"]);
    expect(statuses[2]!.body.details?.error?.code).toBe("deadline_exceeded");
    expect(events(statuses)).not.toContain("execution_started");
    await collect(client.watch(blocker.id));
  });

  it("cancels a queued task and a running one (whose handler sees the abort)", async () => {
    h = await startExecutor({ max_concurrent_tasks: 1 });
    const client = h.executor.client();
    const running = await client.submit({ type: "sleep", parameters: { ms: 10_000 } });
    const queued = await client.submit({ type: "noop" });
    const cancelledQueued = await client.cancel(queued.id, "not needed");
    expect(cancelledQueued.body).toMatchObject({ status: "cancelled", details: { event: "task_cancelled" } });
    // wait until the long one runs, then cancel it
    for await (const s of client.watch(running.id))
      if (s.body.details?.event === "progress_update" || s.body.status === "executing") break;
    const started = Date.now();
    await client.cancel(running.id);
    const statuses = await collect(client.watch(running.id));
    expect(statuses[statuses.length - 1]!.body.status).toBe("cancelled");
    expect(Date.now() - started).toBeLessThan(5000);
    // cancelling a finished task changes nothing
    const again = await client.cancel(running.id);
    expect(again.header.sequence).toBe(statuses[statuses.length - 1]!.header.sequence);
    expect(events(await collect(client.watch(queued.id)))).not.toContain("execution_started");
  });

  it("gives a handler that reads its signal only after a cancel an aborted signal with the reason", async () => {
    let seen: { aborted: boolean; reason: unknown } | undefined;
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => (running = resolve));
    const late = defineHandler({
      type: "late_reader",
      run: async (ctx) => {
        running();
        await new Promise((resolve) => setTimeout(resolve, 200));
        seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
      },
    });
    h = await startExecutor({ handlers: [late] });
    const client = h.executor.client();
    const task = await client.submit({ type: "late_reader" });
    await isRunning;
    await client.cancel(task.id);
    await until(() => seen !== undefined, 5000);
    expect(seen).toMatchObject({ aborted: true, reason: { name: "TaskexecError", code: "cancelled" } });
  });

  it("runs by priority, then deadline, then submission order", async () => {
    const order: string[] = [];
    const record = defineHandler({
      type: "record",
      parameters: z.object({ name: z.string() }),
      run: ({ parameters }) => {
        order.push(parameters.name);
        return {};
      },
    });
    h = await startExecutor({ handlers: [record], max_concurrent_tasks: 1 }, false);
    const client = h.executor.client();
    const soon = new Date(Date.now() + 60_000);
    const later = new Date(Date.now() + 120_000);
    const submitted = [
      { name: "p1-a", priority: 1 },
      { name: "p9-later", priority: 9, deadline: later },
      { name: "p5-a", priority: 5 },
      { name: "p9-soon", priority: 9, deadline: soon },
      { name: "p9-none", priority: 9 },
      { name: "p5-b", priority: 5 },
      { name: "p0", priority: 0 },
    ];
    const ids = [];
    for (const s of submitted)
      ids.push(
        (
          await client.submit({
            type: "record",
            parameters: { name: s.name },
            priority: s.priority,
            deadline: s.deadline,
          })
        ).id,
      );
    await h.executor.start();
    for (const id of ids) await collect(client.watch(id));
    expect(order).toEqual(["p9-soon", "p9-later", "p9-none", "p5-a", "p5-b", "p1-a", "p0"]);
  });

  it("treats the same message_id from the same submitter as the same task", async () => {
    h = await startExecutor();
    const alice = h.executor.client({ principal: "alice" });
    const first = await alice.submit({ type: "noop", messageId: "order-42" });
    const again = await alice.submit({ type: "noop", messageId: "order-42" });
    expect(again).toMatchObject({ id: first.id, duplicate: true });
    const bob = await h.executor.client({ principal: "bob" }).submit({ type: "noop", messageId: "order-42" });
    expect(bob.id).not.toBe(first.id);
    expect((await alice.list()).tasks).toHaveLength(1);
  });

  it("fails cleanly when a handler throws a non-Error, returns non-JSON, or never settles", async () => {
    const handlers = [
      defineHandler({
        type: "throws_string",
        run: () => {
          throw "plain string";
        },
      }),
      defineHandler({ type: "throws_object", run: () => Promise.reject({ why: 42 }) }),
      defineHandler({ type: "returns_bigint", run: () => ({ n: 10n }) }),
      defineHandler({ type: "returns_function", run: () => () => 1 }),
      defineHandler({ type: "hangs", run: () => new Promise(() => {}) }),
    ];
    h = await startExecutor({ handlers, abort_grace_ms: 50 });
    const client = h.executor.client();
    const outcome = async (type: string, extra: Record<string, unknown> = {}) => {
      const task = await client.submit({ type, maxAttempts: 1, ...extra });
      const statuses = await collect(client.watch(task.id));
      return statuses[statuses.length - 1]!.body;
    };
    expect(await outcome("throws_string")).toMatchObject({
      status: "failed",
      details: { error: { code: "handler_error", message: "plain string" } },
    });
    expect((await outcome("throws_object")).details?.error?.message).toContain('{"why":42}');
    const bigint = await outcome("returns_bigint");
    expect(bigint).toMatchObject({
      status: "failed",
      details: { error: { code: "handler_error", retryable: false } },
    });
    expect(bigint.details?.error?.message).toContain("not JSON");
    expect((await outcome("returns_function")).details?.error?.message).toContain("not JSON");
    const hung = await outcome("hangs", { timeoutMs: 100 });
    expect(hung).toMatchObject({ status: "failed", details: { error: { code: "timeout" } } });
    // The hung handler keeps its resources for abort_grace_ms, then they come back, and the
    // executor still runs tasks.
    await until(
      () => h!.executor.resources()[0]!.running === 0,
      2000,
      "the hung handler's allocation to return",
    );
    const after = await client.submit({ type: "noop" });
    expect((await collect(client.watch(after.id))).pop()!.body.status).toBe("completed");
  });

  it("submits many in one call; one bad message never spoils the others", async () => {
    h = await startExecutor();
    const client = h.executor.client();
    const results = await client.submitMany([
      { type: "noop" },
      { type: "noop", priority: 42 },
      { type: "sleep", parameters: { ms: "x" } },
      { type: "noop", messageId: "dup" },
      { type: "noop", messageId: "dup" },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true, true]);
    expect(results[4]).toMatchObject({ ok: true, duplicate: true, id: results[3]!.id });
    expect(results[1]).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    for (const r of results)
      if (r.ok) expect((await collect(client.watch(r.id))).pop()!.body.status).toBe("completed");
  });

  it("lists tasks newest first with a cursor, filtered by state and type", async () => {
    h = await startExecutor({}, false);
    const client = h.executor.client();
    for (let i = 0; i < 5; i++)
      await client.submit({ type: i % 2 ? "noop" : "sleep", parameters: i % 2 ? {} : { ms: 1 } });
    const page1 = await client.list({ limit: 2 });
    const page2 = await client.list({ limit: 2, cursor: page1.nextCursor! });
    const page3 = await client.list({ limit: 2, cursor: page2.nextCursor! });
    const ids = [...page1.tasks, ...page2.tasks, ...page3.tasks].map((t) => t.id);
    expect(new Set(ids).size).toBe(5);
    expect(page3.nextCursor).toBeNull();
    expect((await client.list({ type: "noop" })).tasks).toHaveLength(2);
    expect((await client.list({ state: "resource_allocation" })).tasks).toHaveLength(5);
    expect((await client.list({ state: "completed" })).tasks).toHaveLength(0);
  });

  it("hides other submitters' tasks (not found, never forbidden)", async () => {
    h = await startExecutor();
    const alice = h.executor.client({ principal: "alice" });
    const bob = h.executor.client({ principal: "bob" });
    const task = await alice.submit({ type: "noop" });
    await expect(bob.get(task.id)).rejects.toMatchObject({ name: "TaskNotFoundError" });
    await expect(bob.cancel(task.id)).rejects.toMatchObject({ name: "TaskNotFoundError" });
    expect((await bob.list()).tasks).toEqual([]);
    const admin = h.executor.client({ principal: "root", admin: true });
    expect((await admin.get(task.id)).submitter).toBe("alice");
  });

  it("reports progress through watch, resumable from a sequence", async () => {
    h = await startExecutor();
    const client = h.executor.client();
    const task = await client.submit({ type: "sleep", parameters: { ms: 200 } });
    const all = await collect(client.watch(task.id));
    const progress = all
      .filter((s) => s.body.details?.event === "progress_update")
      .map((s) => s.body.progress);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress).toEqual([...progress].sort((a, b) => a! - b!));
    const resumed = await collect(client.watch(task.id, { afterSequence: 3 }));
    expect(resumed.map((s) => s.header.sequence)).toEqual(all.slice(3).map((s) => s.header.sequence));
    expect(summary(all)).toContain("completed/task_completed");
  });
});

describe("typed handlers in options", () => {
  it("accepts handlers whose parameters are an interface type (a compile-time check as much as a run)", async () => {
    interface Greeting {
      name: string;
    }
    const greet = defineHandler<Greeting, { text: string }>({
      type: "greet",
      run: ({ parameters }) => ({ text: `hi ${parameters.name}` }),
    });
    h = await startExecutor({ handlers: [greet] });
    const client = h.executor.client();
    const task = await client.submit({ type: "greet", parameters: { name: "Ada" } });
    expect((await collect(client.watch(task.id))).pop()!.body.details?.result).toEqual({ text: "hi Ada" });
  });
});
