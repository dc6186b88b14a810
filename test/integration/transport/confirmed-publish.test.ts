import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishConfirmed } from "../../../src/transport/amqp/confirmed-publish.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";

const available = await rabbitForTests();

describe.runIf(available)("publishConfirmed (a batch confirmed by the broker, on a real RabbitMQ)", () => {
  let vhost: TestVhost;
  beforeAll(async () => {
    vhost = await createTestVhost();
  });
  afterAll(async () => {
    await vhost.remove();
  });

  const batch = (queue: string, n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({
      exchange: "",
      routingKey: queue,
      content: Buffer.from(`${tag}-${i}`),
      options: { persistent: true },
    }));

  it("resolves each of many concurrent batches once its own messages are confirmed", async () => {
    const connection = await amqplib.connect(vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      const { queue } = await channel.assertQueue("confirmed-publish", { durable: true });
      await Promise.all(
        Array.from({ length: 50 }, (_, b) => publishConfirmed(channel, batch(queue, 20, `b${b}`))),
      );
      expect((await channel.checkQueue(queue)).messageCount).toBe(1_000);
      await expect(publishConfirmed(channel, [])).resolves.toBeUndefined();
    } finally {
      await connection.close();
    }
  });

  it("rejects when the broker refuses the messages (the channel closes before confirming them)", async () => {
    const connection = await amqplib.connect(vhost.url);
    connection.on("error", () => {});
    try {
      const channel = await connection.createConfirmChannel();
      channel.on("error", () => {}); // the broker closes it: 404, no such exchange
      const refused = publishConfirmed(channel, [
        { exchange: "no-such-exchange", routingKey: "x", content: Buffer.from("x"), options: {} },
      ]);
      await expect(refused).rejects.toThrow();
      // A channel already closed refuses at once.
      await expect(publishConfirmed(channel, batch("any", 1, "late"))).rejects.toThrow();
    } finally {
      await connection.close().catch(() => {});
    }
  });
});
