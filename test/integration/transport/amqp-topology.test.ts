import amqplib from "amqplib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AmqpConnection } from "../../../src/transport/amqp/amqp-connection.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";

const available = await rabbitForTests();

describe.runIf(available)("the broker topology (SPEC §4)", () => {
  let vhost: TestVhost;
  beforeEach(async () => {
    vhost = await createTestVhost();
  });
  afterEach(async () => {
    await vhost.remove();
  });

  it("is declared by every process, whichever comes first, and routes as the spec says", async () => {
    // Two processes declare it; the second finds it there with the same arguments.
    const first = await AmqpConnection.open({ url: vhost.url, name: "a" });
    const second = await AmqpConnection.open({ url: vhost.url, name: "b" });
    const raw = await amqplib.connect(vhost.url);
    try {
      const channel = await raw.createChannel();
      // submit_task and cancel_task reach the admission side's queue.
      channel.publish(EXCHANGES.submit, "submit_task", Buffer.from("{}"), { persistent: true });
      channel.publish(EXCHANGES.submit, "cancel_task", Buffer.from("{}"), { persistent: true });
      channel.publish(EXCHANGES.submit, "something_else", Buffer.from("{}"));
      await waitForCount(channel, QUEUES.submissions, 2);
      // A refused delivery is dead-lettered to taskexec.dead, not lost and not requeued.
      const refused = await channel.get(QUEUES.submissions);
      expect(refused).not.toBe(false);
      channel.nack(refused as amqplib.GetMessage, false, false);
      await waitForCount(channel, QUEUES.dead, 1);
      const dead = (await channel.get(QUEUES.dead)) as amqplib.GetMessage;
      expect(dead.properties.headers?.["x-death"]?.[0]).toMatchObject({
        queue: QUEUES.submissions,
        reason: "rejected",
      });
      // taskexec.tasks delivers by priority.
      for (const priority of [1, 9, 5])
        channel.sendToQueue(QUEUES.tasks, Buffer.from(String(priority)), { priority, persistent: true });
      await waitForCount(channel, QUEUES.tasks, 3);
      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        const message = (await channel.get(QUEUES.tasks, { noAck: true })) as amqplib.GetMessage;
        order.push(message.content.toString());
      }
      expect(order).toEqual(["9", "5", "1"]);
      // The status and resources exchanges are topics.
      await channel.checkExchange(EXCHANGES.status);
      await channel.checkExchange(EXCHANGES.resources);
    } finally {
      await raw.close();
      await first.close();
      await second.close();
    }
  });
});

async function waitForCount(channel: amqplib.Channel, queue: string, n: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await channel.checkQueue(queue)).messageCount >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${queue} never held ${n} messages`);
}
