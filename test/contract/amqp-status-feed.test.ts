// The StatusFeed contract over the broker (issue 25.17): what the api of distributed mode hears of
// the other processes through `taskexec.status`. Each "process" is a PostgreSQL store that, as
// the engine does, publishes what it writes on its own status bus; the machine's RabbitMQ (a
// vhost per test) and PostgreSQL (a database per test).
import { describe } from "vitest";
import { routed } from "../../src/engine/engine-context.js";
import { openPostgresTaskStore } from "../../src/store/postgres/open-postgres-store.js";
import type { TaskStore } from "../../src/store/task-store.js";
import { AmqpConnection } from "../../src/transport/amqp/amqp-connection.js";
import { AmqpStatusBus } from "../../src/transport/amqp/amqp-status-bus.js";
import { AmqpStatusFeed } from "../../src/transport/amqp/amqp-status-feed.js";
import { createTestDatabase, postgresForTests } from "../helpers/postgres.js";
import { closeConnections, createTestVhost, rabbitForTests } from "../helpers/rabbitmq.js";
import { describeStatusFeedContract } from "./status-feed.contract.js";

const available = (await postgresForTests()) && (await rabbitForTests());

/** The store, announcing on `bus` what its writes create or change, as the engine does after each. */
function announcing(store: TaskStore, bus: AmqpStatusBus): TaskStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== "function") return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (name === "submitTasks")
        return async (...args: unknown[]) => {
          const outcomes = (await method(...args)) as Awaited<ReturnType<TaskStore["submitTasks"]>>;
          await bus.publish(outcomes.flatMap((o) => (o.created ? [routed(o)] : [])));
          return outcomes;
        };
      if (name === "recordChange")
        return async (...args: unknown[]) => {
          const outcome = (await method(...args)) as Awaited<ReturnType<TaskStore["recordChange"]>>;
          await bus.publish([routed(outcome)]);
          return outcome;
        };
      if (name === "recordChanges")
        return async (...args: unknown[]) => {
          const outcomes = (await method(...args)) as Awaited<ReturnType<TaskStore["recordChanges"]>>;
          await bus.publish(outcomes.map(routed));
          return outcomes;
        };
      return method;
    },
  });
}

describe.runIf(available)("RabbitMQ", () => {
  describeStatusFeedContract("amqp", async () => {
    const [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const process = async (node: string) => {
      const connection = await AmqpConnection.open({ url: vhost.url, name: node });
      const bus = await AmqpStatusBus.open(connection);
      const store = await openPostgresTaskStore({ url: db.url, node });
      return {
        connection,
        bus,
        store: announcing(store, bus),
        close: async () => {
          await bus.close();
          await connection.close();
          await store.close();
        },
      };
    };
    const [own, other] = [await process("node-a"), await process("node-b")];
    const feed = new AmqpStatusFeed(own.bus);
    return {
      feed,
      own: own.store,
      other: other.store,
      cut: () => closeConnections(vhost.name),
      cleanup: async () => {
        await feed.close();
        await own.close();
        await other.close();
        await Promise.all([db.drop(), vhost.remove()]);
      },
    };
  });
});
