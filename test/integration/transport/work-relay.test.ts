// The transactional outbox (PostgreSQL) and its relay to taskexec.tasks (RabbitMQ).
import amqplib from "amqplib";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openPostgresTaskStore } from "../../../src/store/postgres/open-postgres-store.js";
import type { PostgresTaskStore } from "../../../src/store/postgres/postgres-task-store.js";
import { AmqpConnection } from "../../../src/transport/amqp/amqp-connection.js";
import { QUEUES } from "../../../src/transport/amqp/topology.js";
import { AmqpWorkSignal } from "../../../src/transport/amqp/amqp-work-signal.js";
import { type WorkMessage, WorkRelay } from "../../../src/transport/amqp/work-relay.js";
import { withDatabase } from "../../helpers/cluster.js";
import {
  createTestDatabase,
  postgresForTests,
  terminateSessions,
  type TestDatabase,
} from "../../helpers/postgres.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";
import { draft, newTask } from "../../helpers/tasks.js";

const available = (await postgresForTests()) && (await rabbitForTests());

describe.runIf(available)("the work outbox and its relay", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let store: PostgresTaskStore;
  beforeEach(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    store = await openPostgresTaskStore({ url: db.url, node: "api-1", outbox: true });
  });
  afterEach(async () => {
    await store.close();
    await Promise.all([db.drop(), vhost.remove()]);
  });

  const outboxSize = () =>
    withDatabase(
      db.url,
      async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM work_outbox")).rows[0]!.n,
    );
  const drain = async (channel: amqplib.Channel) => {
    const out: WorkMessage[] = [];
    for (
      let m = await channel.get(QUEUES.tasks, { noAck: true });
      m !== false;
      m = await channel.get(QUEUES.tasks, { noAck: true })
    )
      out.push(JSON.parse(m.content.toString()) as WorkMessage);
    return out;
  };

  it("writes ready work in the statement that makes a task ready, and publishes it by priority once confirmed", async () => {
    const tasks = [1, 9, 5].map((priority) => newTask({ priority }));
    await store.submitTasks(tasks);
    // A task handed back (a retry due) is ready again: a new entry.
    const started = await store.recordChange({
      taskId: tasks[0]!.id,
      from: ["resource_allocation"],
      to: "executing",
      status: draft(),
    });
    await store.recordChange({
      taskId: tasks[0]!.id,
      known: started.task,
      from: ["executing"],
      to: "waiting",
      status: draft(),
    });
    expect(await outboxSize()).toBe(3);
    await store.recordChange({
      taskId: tasks[0]!.id,
      from: ["waiting"],
      to: "resource_allocation",
      status: draft(),
    });
    expect(await outboxSize()).toBe(4);

    const connection = await AmqpConnection.open({ url: vhost.url, name: "api-1" });
    const relay = await WorkRelay.start(connection, {
      forward: (n, send) => store.forwardReadyWork(n, send),
      pollMs: 60_000,
    });
    const raw = await amqplib.connect(vhost.url);
    try {
      const channel = await raw.createChannel();
      await vi.waitFor(async () => expect((await channel.checkQueue(QUEUES.tasks)).messageCount).toBe(4));
      expect(await outboxSize()).toBe(0);
      const work = await drain(channel);
      expect(work.map((w) => w.priority)).toEqual([9, 5, 1, 1]);
      expect(work.filter((w) => w.task_id === tasks[0]!.id)).toHaveLength(2);
      // New work is relayed when the relay is woken.
      await store.submitTasks([newTask({ priority: 3 })]);
      relay.wake();
      await vi.waitFor(async () => expect((await drain(channel)).map((w) => w.priority)).toEqual([3]));
    } finally {
      await raw.close();
      await relay.stop();
      await connection.close();
    }
  });

  it("keeps the work while the broker cannot take it, and hands it over later (at least once)", async () => {
    await store.submitTasks([newTask(), newTask()]);
    await expect(store.forwardReadyWork(10, () => Promise.reject(new Error("broker away")))).rejects.toThrow(
      "broker away",
    );
    expect(await outboxSize()).toBe(2);
    // Two relays at once never hand over the same entries.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = store.forwardReadyWork(10, () => held);
    await new Promise((r) => setTimeout(r, 100));
    expect(await store.forwardReadyWork(10, async () => {})).toBe(0);
    release();
    expect(await first).toBe(2);
    expect(await outboxSize()).toBe(0);
  });

  it("waits for a task another transaction holds instead of taking it for claimed elsewhere (a losing requeue must not drop the only message)", async () => {
    const task = newTask();
    await store.submitTasks([task]);
    // Another writer holds the row (as a second worker's compare-and-set on the same task does,
    // writing nothing in the end), and lets it go a moment later.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", [task.id]);
      const now = Date.now();
      const claiming = store.claimTasks("worker-1", [task.id], now, now + 60_000);
      await new Promise((r) => setTimeout(r, 200));
      await holder.query("ROLLBACK");
      expect((await claiming).map((t) => t.id)).toEqual([task.id]);
    } finally {
      await holder.end();
    }
  });

  it("writes nothing to the outbox in shared-database mode", async () => {
    const shared = await openPostgresTaskStore({ url: db.url, node: "serve-1" });
    try {
      await shared.submitTasks([newTask()]);
      expect(await outboxSize()).toBe(0);
    } finally {
      await shared.close();
    }
  });

  it("survives the server ending the connection it holds while the broker confirms: the pass fails, the outbox keeps the work", async () => {
    await store.submitTasks([newTask()]);
    let confirm: () => void = () => {};
    let sending: () => void = () => {};
    const sent = new Promise<void>((resolve) => (sending = resolve));
    const pass = store.forwardReadyWork(10, async () => {
      sending();
      await new Promise<void>((resolve) => (confirm = resolve));
    });
    await sent;
    // The transaction's connection is checked out and idle: a restart of the server ends it. That
    // used to be an 'error' event no one listened to, and brought the whole process down.
    await terminateSessions(db.url, "taskexec");
    await new Promise((r) => setTimeout(r, 200));
    confirm();
    await expect(pass).rejects.toThrow();
    expect(await outboxSize()).toBe(1);
    // The pool opens new connections: the next pass hands the work over.
    await vi.waitFor(async () => expect(await store.forwardReadyWork(10, async () => {})).toBe(1));
    expect(await outboxSize()).toBe(0);
  });
});

describe.runIf(available)("workers taking work from taskexec.tasks", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  beforeEach(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  });
  afterEach(async () => {
    await Promise.all([db.drop(), vhost.remove()]);
  });

  it("claims each task for exactly one worker, acks what is stale or taken, and dead-letters what is not work", async () => {
    const api = await openPostgresTaskStore({ url: db.url, node: "api", outbox: true });
    const connections: AmqpConnection[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      const worker = async (node: string) => {
        const store = await openPostgresTaskStore({ url: db.url, node, outbox: true });
        const connection = await AmqpConnection.open({ url: vhost.url, name: node });
        connections.push(connection);
        const now = Date.now();
        const signal = await AmqpWorkSignal.open(connection, {
          claim: (ids) => store.claimTasks(node, ids, Date.now(), now + 60_000),
          prefetch: 20,
        });
        const got: string[] = [];
        await signal.listen({
          ready: (work) => {
            const ids = work.tasks.map((t) => t.id);
            got.push(...ids);
            // Taken at once (a worker with room): the deliveries are acked, more come.
            signal.taken(ids);
          },
          mayBeReady: () => {},
        });
        closers.push(async () => {
          await signal.close();
          await store.close();
        });
        return got;
      };
      const [w1, w2] = [await worker("w1"), await worker("w2")];
      const tasks = Array.from({ length: 100 }, (_, i) => newTask({ priority: i % 10 }));
      await api.submitTasks(tasks);
      // One task cancelled before it is relayed: its message is stale.
      await api.recordChange({
        taskId: tasks[0]!.id,
        from: ["resource_allocation"],
        to: "cancelled",
        status: draft(),
      });
      const connection = await AmqpConnection.open({ url: vhost.url, name: "api" });
      connections.push(connection);
      const relay = await WorkRelay.start(connection, {
        forward: (n, send) => api.forwardReadyWork(n, send),
        pollMs: 60_000,
      });
      closers.push(() => relay.stop());
      const raw = await amqplib.connect(vhost.url);
      closers.push(() => raw.close());
      const channel = await raw.createConfirmChannel();
      channel.sendToQueue(QUEUES.tasks, Buffer.from("not json"));
      // A second message for a task already relayed (a relay that died before removing it).
      channel.sendToQueue(
        QUEUES.tasks,
        Buffer.from(JSON.stringify({ task_id: tasks[1]!.id, priority: 1, type: "noop", requirements: {} })),
      );
      await channel.waitForConfirms();
      await vi.waitFor(() => expect(new Set([...w1, ...w2]).size).toBe(99), { timeout: 15_000 });
      await vi.waitFor(async () => expect((await channel.checkQueue(QUEUES.tasks)).messageCount).toBe(0));
      const all = [...w1, ...w2];
      // Never to both workers. (The repeated message may reach the worker that holds the claim:
      // it is handed to it again, and its intake already holds the task.)
      expect(w1.filter((id) => w2.includes(id))).toEqual([]);
      expect(all.length - new Set(all).size).toBeLessThanOrEqual(1);
      expect(all).not.toContain(tasks[0]!.id);
      expect(w1.length).toBeGreaterThan(0);
      expect(w2.length).toBeGreaterThan(0);
      // Dead-lettered by a publish of its own, which may land a moment after the queue emptied.
      const dead = await vi.waitFor(async () => {
        const message = await channel.get(QUEUES.dead, { noAck: true });
        expect(message).not.toBe(false);
        return message as amqplib.GetMessage;
      });
      expect(dead.content.toString()).toBe("not json");
    } finally {
      for (const close of closers.reverse()) await close();
      for (const c of connections) await c.close();
      await api.close();
    }
  }, 30_000);

  it("holds what it handed over until taken (the prefetch), passes on what it could never take, and a lapsed claim is handed over again", async () => {
    const api = await openPostgresTaskStore({ url: db.url, node: "api", outbox: true });
    const closers: (() => Promise<void>)[] = [];
    try {
      const connection = await AmqpConnection.open({ url: vhost.url, name: "test" });
      closers.push(() => connection.close());
      const relay = await WorkRelay.start(connection, {
        forward: (n, send) => api.forwardReadyWork(n, send),
        pollMs: 200,
      });
      closers.push(() => relay.stop());
      const worker = async (
        node: string,
        accepts: (type: string) => boolean,
        claimMs: number,
        takes = false,
      ) => {
        const store = await openPostgresTaskStore({ url: db.url, node, outbox: true });
        const signal = await AmqpWorkSignal.open(connection, {
          claim: (ids) => store.claimTasks(node, ids, Date.now(), Date.now() + claimMs),
          accepts: (type) => accepts(type),
          prefetch: 3,
        });
        const got: string[] = [];
        const stop = await signal.listen({
          ready: (w) => {
            got.push(...w.tasks.map((t) => t.id));
            if (takes) signal.taken(w.tasks.map((t) => t.id));
          },
          mayBeReady: () => {},
        });
        closers.push(async () => {
          await signal.close();
          await store.close();
        });
        return { got, signal, stop };
      };
      // A worker that takes nothing it is handed holds three tasks, and no more.
      // (Its claims lapse after a second; nothing acts on that until the end of this test.)
      const slow = await worker("slow", (type) => type === "noop", 1_000);
      const gpu = await worker("gpu", (type) => type === "render", 60_000);
      const tasks = Array.from({ length: 5 }, () => newTask());
      const render = newTask({ type: "render" });
      await api.submitTasks([...tasks, render]);
      relay.wake();
      await vi.waitFor(() => expect(slow.got).toHaveLength(3), { timeout: 10_000 });
      // The render task went past the worker that cannot run it, to the one that can.
      await vi.waitFor(() => expect(gpu.got).toEqual([render.id]), { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      expect(slow.got).toHaveLength(3);
      expect(slow.signal.holding).toBe(3);
      // Taking one lets one more in.
      slow.signal.taken([slow.got[0]!]);
      await vi.waitFor(() => expect(slow.got).toHaveLength(4));

      // The slow worker dies holding its claims: its deliveries go back to the queue, but the
      // claims are live, so they are dropped; once the claims lapse, housekeeping gives them back
      // and the relay hands the tasks over again, to a worker that takes them.
      await slow.stop();
      await slow.signal.close();
      const heir = await worker("heir", () => true, 60_000, true);
      await vi.waitFor(
        async () => {
          await api.releaseLapsedClaims(Date.now(), 100);
          relay.wake();
          expect(new Set(heir.got)).toEqual(new Set(tasks.map((t) => t.id)));
        },
        { timeout: 15_000, interval: 300 },
      );
    } finally {
      for (const close of closers.reverse()) await close();
      await api.close();
    }
  }, 30_000);
});
