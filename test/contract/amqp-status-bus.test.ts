import { describe, expect, it, vi } from "vitest";
import { AmqpConnection } from "../../src/transport/amqp/amqp-connection.js";
import { AmqpStatusBus } from "../../src/transport/amqp/amqp-status-bus.js";
import { closeConnections, createTestVhost, rabbitForTests } from "../helpers/rabbitmq.js";
import { describeStatusBusContract, routed } from "./status-bus.contract.js";

const available = await rabbitForTests();

/** A bus on a connection of its own, closed together. */
async function openBus(url: string, name: string, errors: unknown[] = []) {
  const connection = await AmqpConnection.open({ url, name });
  const bus = await AmqpStatusBus.open(connection, (error) => errors.push(error));
  return Object.assign(bus, {
    close: async () => {
      await AmqpStatusBus.prototype.close.call(bus);
      await connection.close();
    },
  });
}

describe.runIf(available)("RabbitMQ", () => {
  describeStatusBusContract("amqp", async () => {
    const vhost = await createTestVhost();
    const bus = await openBus(vhost.url, "node-a");
    return {
      bus,
      settle: async () => {},
      peer: () => openBus(vhost.url, "node-b"),
      cleanup: async () => {
        await bus.close();
        await vhost.remove();
      },
    };
  });

  it("hears other processes again after its connection is cut, on a queue and bindings made anew", async () => {
    const vhost = await createTestVhost();
    const errors: unknown[] = [];
    const here = await openBus(vhost.url, "node-a", errors);
    const there = await openBus(vhost.url, "node-b");
    try {
      const heard: number[] = [];
      await here.subscribe("t1", (s) => heard.push(s.header.sequence));
      await there.publish([routed("t1", 1)]);
      await vi.waitFor(() => expect(heard).toEqual([1]));
      await closeConnections(vhost.name);
      // Both lost their connection: each publish waits for its channel to be back.
      let sequence = 1;
      await vi.waitFor(
        async () => {
          await there.publish([routed("t1", ++sequence)]);
          expect(heard.length).toBeGreaterThan(1);
        },
        { timeout: 15_000, interval: 500 },
      );
      // What was published while it reconnected may be lost (watchers read it from the store);
      // what comes after is heard.
      await vi.waitFor(() => expect(heard[heard.length - 1]).toBe(sequence));
      expect(errors).toEqual([]);
    } finally {
      await here.close();
      await there.close();
      await vhost.remove();
    }
  }, 30_000);
});
