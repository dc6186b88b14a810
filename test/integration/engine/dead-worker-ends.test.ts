// Ends committed and never published, told again from the store, on the machine's PostgreSQL and
// RabbitMQ: a worker that dies between committing a task's end and publishing it leaves that end
// unannounced, and the api tells it again (DeadWorkerEnds); statuses dropped while the broker was
// away are told again, the ends among them, by the process that dropped them once it is back.
import amqplib from "amqplib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DeadWorkerEnds } from "../../../src/engine/dead-worker-ends.js";
import { createLogger } from "../../../src/observability/logger.js";
import { openPostgresTaskStore } from "../../../src/store/postgres/open-postgres-store.js";
import type { PostgresTaskStore } from "../../../src/store/postgres/postgres-task-store.js";
import { compileOptions } from "../../../src/config/options.js";
import { listenToCluster, openDistributedTransports } from "../../../src/distributed.js";
import { AmqpConnection } from "../../../src/transport/amqp/amqp-connection.js";
import { AmqpResourceFeed } from "../../../src/transport/amqp/amqp-resource-feed.js";
import { AmqpStatusBus, MAX_WAITING } from "../../../src/transport/amqp/amqp-status-bus.js";
import { EXCHANGES } from "../../../src/transport/amqp/topology.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../../helpers/postgres.js";
import {
  createTestVhost,
  observeStatuses,
  rabbitForTests,
  shutOut,
  type TestVhost,
} from "../../helpers/rabbitmq.js";
import { draft, newTask } from "../../helpers/tasks.js";
import { routed } from "../../contract/status-bus.contract.js";

const available = (await postgresForTests()) && (await rabbitForTests());

/** What `queue` carries from now on, as "<task id> <status>" strings. */
async function hear(channel: amqplib.Channel, queue: string): Promise<string[]> {
  const heard: string[] = [];
  await channel.consume(
    queue,
    (m) => {
      const s = JSON.parse(m!.content.toString()) as {
        header: { task_id: string };
        body: { status: string };
      };
      heard.push(`${s.header.task_id} ${s.body.status}`);
    },
    { noAck: true },
  );
  return heard;
}
const HEARTBEAT_MS = 200;
const options = compileOptions({ heartbeat_ms: HEARTBEAT_MS });

describe.runIf(available)("DeadWorkerEnds (distributed mode's api)", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let store: PostgresTaskStore;
  let connection: AmqpConnection;
  beforeEach(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    store = await openPostgresTaskStore({ url: db.url, node: "api-1" });
    connection = await AmqpConnection.open({ url: vhost.url, name: "api-1" });
  });
  afterEach(async () => {
    await connection.close();
    await store.close();
    await Promise.all([db.drop(), vhost.remove()]);
  });

  /** Ends a new task as worker `node` would, committed and not published. */
  const endUnannounced = async (state: "completed" | "failed", node = "worker-1") => {
    const task = newTask();
    await store.submitTasks([task]);
    const started = await store.recordChange({
      taskId: task.id,
      from: ["resource_allocation"],
      to: "executing",
      status: draft({ event: "execution_started" }),
    });
    const before =
      state === "completed"
        ? (
            await store.recordChange({
              taskId: task.id,
              known: started.task,
              from: ["executing"],
              to: "completing",
              status: draft(),
            })
          ).task
        : started.task;
    const ended = await store.recordChange({
      taskId: task.id,
      known: before,
      from: [before.state],
      to: state,
      patch: { finishedAt: Date.now() },
      status: draft({ event: state === "completed" ? "task_completed" : "task_failed", node }),
    });
    return { id: task.id, sequence: ended.task.lastSequence };
  };

  /** An api's guard with a raw reader of what `taskexec.status` carries, and a way to beat as a worker. */
  const guarded = async () => {
    const bus = await AmqpStatusBus.open(connection);
    const resources = await AmqpResourceFeed.open(connection);
    const log = createLogger({ level: "silent" });
    const cluster = await listenToCluster({ feed: resources, store, options, log });
    const guard = await DeadWorkerEnds.start({
      store,
      bus,
      cluster: cluster.placement,
      heartbeatMs: HEARTBEAT_MS,
      log,
    });
    const raw = await amqplib.connect(vhost.url);
    const channel = await raw.createChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, EXCHANGES.status, "#");
    const heard = await hear(channel, queue);
    const beat = (nodeId: string, bootId: string, at = Date.now()) =>
      resources.publish({
        nodeId,
        bootId,
        at,
        capacity: { cpu: 1 },
        allocated: {},
        runningTasks: 0,
        waitingTasks: 0,
        handlerTypes: ["noop"],
      });
    const close = async () => {
      cluster.stop();
      await raw.close();
      await guard.stop();
      await resources.close();
      await bus.close();
    };
    return { heard, beat, bus, close };
  };

  it("tells again, once a worker it saw alive stops beating, the ends it did not hear, and only those", async () => {
    const { heard, beat, bus, close } = await guarded();
    try {
      // A worker beats for a while...
      for (let i = 0; i < 3; i++) {
        await beat("worker-1", "boot-1");
        await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
      }
      // ...ends three tasks, announcing one of them, and dies.
      const lost = [(await endUnannounced("completed")).id, (await endUnannounced("failed")).id];
      const { id: announcedId, sequence } = await endUnannounced("completed");
      const [announced] = await store.observeStatuses([[announcedId, sequence]]);
      await bus.publish([{ submitter: announced!.submitter, status: announced!.status }]);
      await beat("worker-1", "boot-1");
      await vi.waitFor(() => expect(heard).toHaveLength(3), { timeout: 5_000 });
      expect(heard.sort()).toEqual(
        [`${lost[0]} completed`, `${lost[1]} failed`, `${announcedId} completed`].sort(),
      );
      // Nothing more: neither the end heard before, nor the same ends at the next checks.
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 5));
      expect(heard).toHaveLength(3);
    } finally {
      await close();
    }
  });

  it("tells again a worker's ends when it comes back under the same node id (a new boot id) before it is seen dead", async () => {
    const { heard, beat, close } = await guarded();
    try {
      for (let i = 0; i < 3; i++) {
        await beat("worker-1", "boot-1");
        await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
      }
      const lost = (await endUnannounced("completed")).id;
      // Killed and restarted at once: it never misses a beat, but it is another run of it.
      await beat("worker-1", "boot-2");
      await vi.waitFor(() => expect(heard).toEqual([`${lost} completed`]), { timeout: 5_000 });
    } finally {
      await close();
    }
  });

  it("judges a death by when it heard the node, and tells again only that node's own ends", async () => {
    const { heard, beat, close } = await guarded();
    const beating = setInterval(() => void beat("worker-1", "boot-1"), HEARTBEAT_MS / 2);
    try {
      await beat("worker-1", "boot-1");
      // worker-1, alive, has ends it has not announced yet (it may still).
      const own = [(await endUnannounced("completed")).id, (await endUnannounced("failed")).id];
      // A forged node that claims a heartbeat at the epoch beats once and "dies": nothing is told
      // for it (it ran nothing), and worker-1's ends are not its to tell.
      await beat("forged", "x", 1);
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 8));
      expect(heard).toEqual([]);
      // worker-1 dies: its own two ends are told, once.
      clearInterval(beating);
      await vi.waitFor(
        () => expect(heard.sort()).toEqual([`${own[0]} completed`, `${own[1]} failed`].sort()),
        {
          timeout: 5_000,
        },
      );
      await new Promise((r) => setTimeout(r, HEARTBEAT_MS * 5));
      expect(heard).toHaveLength(2);
    } finally {
      clearInterval(beating);
      await close();
    }
  });

  it("tells again the ends committed while the broker was away, once statuses were dropped for it", async () => {
    const parts = await openDistributedTransports({
      options: compileOptions({ store: { url: db.url }, message_broker_url: vhost.url }),
      role: "admission",
      node: "api-1",
      store,
      log: createLogger({ level: "silent" }),
    });
    const queue = await observeStatuses(vhost.url); // what the broker carries
    try {
      const letIn = await shutOut(vhost.name);
      await vi.waitFor(() => expect(parts.connection.connected).toBe(false));
      const ended = await endUnannounced("completed");
      // More statuses than wait for the broker in memory: they are dropped.
      await parts.bus.publish(Array.from({ length: MAX_WAITING + 1 }, (_, i) => routed(`other-${i}`, 1)));
      await letIn();
      const reader = await amqplib.connect(vhost.url);
      try {
        const channel = await reader.createChannel();
        const heard = await hear(channel, queue);
        await vi.waitFor(() => expect(heard).toContain(`${ended.id} completed`), { timeout: 15_000 });
        expect(heard.filter((h) => h.startsWith("other-"))).toEqual([]);
      } finally {
        await reader.close();
      }
    } finally {
      await parts.relay.stop();
      await parts.others.close();
      await parts.work.close();
      await parts.resources.close();
      await parts.bus.close();
      await parts.connection.close();
    }
  });
});
