// The WorkSignal contract over the broker (distributed mode): the api's OutboxWorkSignal and the
// worker's AmqpWorkSignal, each with a real PostgreSQL store in outbox mode, its relay, and RabbitMQ.
import amqplib from "amqplib";
import { describe } from "vitest";
import { writtenWork } from "../../src/domain/records.js";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import { AmqpConnection } from "../../src/transport/amqp/amqp-connection.js";
import { AmqpWorkSignal } from "../../src/transport/amqp/amqp-work-signal.js";
import { OutboxWorkSignal } from "../../src/transport/amqp/outbox-work-signal.js";
import { QUEUES } from "../../src/transport/amqp/topology.js";
import { type WorkMessage, WorkRelay } from "../../src/transport/amqp/work-relay.js";
import { createTestDatabase, postgresForTests } from "../helpers/postgres.js";
import { createTestVhost, rabbitForTests } from "../helpers/rabbitmq.js";
import { newTask } from "../helpers/tasks.js";
import { type SignalHarness, describeWorkSignalContract } from "./work-signal.contract.js";

const available = (await postgresForTests()) && (await rabbitForTests());

/**
 * One process of a distributed cluster (an api, or a worker) on a database and a vhost of its own;
 * its peer is a worker of another process. The relay polls once a minute, so work is handed over
 * within a test only when the signal wakes it.
 */
async function openProcess(role: "api" | "worker"): Promise<SignalHarness> {
  const [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
  const closers: (() => Promise<unknown>)[] = [() => vhost.remove(), () => db.drop()];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) await closer();
  };
  try {
    const store = await openPostgresTaskStore({ url: db.url, node: "node-a", outbox: true });
    closers.push(() => store.close());
    const connection = await AmqpConnection.open({ url: vhost.url, name: "node-a" });
    closers.push(() => connection.close());
    const relay = await WorkRelay.start(connection, {
      forward: (n, send) => store.forwardReadyWork(n, send),
      pollMs: 60_000,
    });
    closers.push(() => relay.stop());
    const errors: unknown[] = [];
    const worker = async (node: string, on: AmqpConnection) => {
      const own = await openPostgresTaskStore({ url: db.url, node, outbox: true });
      closers.push(() => own.close());
      return AmqpWorkSignal.open(on, {
        claim: (ids) => own.claimTasks(node, ids, Date.now(), Date.now() + 60_000),
        prefetch: 10,
        wake: () => relay.wake(),
        onError: (e) => errors.push(e),
      });
    };
    const signal =
      role === "api"
        ? new OutboxWorkSignal(
            () => relay.wake(),
            (e) => errors.push(e),
          )
        : await worker("node-a", connection);
    closers.push(() => signal.close());
    const raw = await amqplib.connect(vhost.url);
    closers.push(() => raw.close());
    const channel = await raw.createChannel();
    return {
      signal,
      errors,
      peer: async () => {
        const other = await AmqpConnection.open({ url: vhost.url, name: "node-b" });
        closers.push(() => other.close());
        return worker("node-b", other);
      },
      broker: {
        node: "node-a",
        peerNode: "node-b",
        submit: async (n) => {
          const outcomes = await store.submitTasks(Array.from({ length: n }, () => newTask()));
          return writtenWork(outcomes.map((o) => o.task));
        },
        takeWaiting: async () => {
          const ids: string[] = [];
          const next = () => channel.get(QUEUES.tasks, { noAck: true });
          for (let m = await next(); m !== false; m = await next())
            ids.push((JSON.parse(m.content.toString()) as WorkMessage).task_id);
          return ids;
        },
      },
      cleanup: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

describe.runIf(available)("over the broker", () => {
  describeWorkSignalContract("outbox (an api)", () => openProcess("api"));
  describeWorkSignalContract("amqp (a worker)", () => openProcess("worker"));
});
