import amqplib from "amqplib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClusterView } from "../../../src/resources/cluster-view.js";
import type { ResourceStatus } from "../../../src/resources/resource-status-codec.js";
import { AmqpConnection } from "../../../src/transport/amqp/amqp-connection.js";
import { AmqpResourceFeed } from "../../../src/transport/amqp/amqp-resource-feed.js";
import { REASON_HEADER } from "../../../src/transport/amqp/dead-letter.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";

const available = await rabbitForTests();

describe.runIf(available)("resource statuses over taskexec.resources", () => {
  let vhost: TestVhost;
  const opened: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    vhost = await createTestVhost();
  });
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
    await vhost.remove();
  });

  const feed = async (name: string, errors: unknown[] = []) => {
    const connection = await AmqpConnection.open({ url: vhost.url, name });
    opened.push(connection);
    const f = await AmqpResourceFeed.open(connection, { onError: (e) => errors.push(e) });
    opened.push(f);
    return f;
  };

  const worker = (nodeId: string, at: number): Omit<ResourceStatus, "protocolVersion"> => ({
    nodeId,
    bootId: `${nodeId}-boot`,
    at,
    capacity: { cpu: 2, gpu: nodeId === "gpu-worker" ? 1 : 0 },
    allocated: { cpu: 1 },
    runningTasks: 1,
    waitingTasks: 0,
    handlerTypes: ["noop"],
  });

  it("carries each worker's status to the API's cluster view, and dead-letters what is not one without stopping", async () => {
    const api = await feed("api");
    const view = new ClusterView({
      heartbeatMs: 1_000,
      placementWindowMs: 600_000,
      forgetAfterMs: 3_600_000,
      maxNodes: 1_000,
      since: Date.now(),
    });
    const heard: string[] = [];
    await api.listen((status) => {
      heard.push(status.nodeId);
      view.heard(status, Date.now());
    });
    const [w1, w2] = [await feed("w1"), await feed("gpu-worker")];
    await w1.publish(worker("w1", Date.now()));
    // A poison message: not protobuf of a ResourceStatus.
    const raw = await amqplib.connect(vhost.url);
    opened.push(raw);
    const channel = await raw.createChannel();
    channel.publish(EXCHANGES.resources, "intruder", Buffer.from([0x0a, 0x10, 0x6e]));
    await w2.publish(worker("gpu-worker", Date.now()));
    await vi.waitFor(() => expect(heard).toEqual(["w1", "gpu-worker"]));
    const members = view.members(Date.now());
    expect(members.map((m) => [m.status.nodeId, m.alive, m.status.capacity.gpu])).toEqual([
      ["gpu-worker", true, 1],
      ["w1", true, 0],
    ]);
    // The API's queue had it, and moved it to taskexec.dead with the reason.
    const dead = await vi.waitFor(async () => {
      const message = await channel.get(QUEUES.dead, { noAck: true });
      expect(message).not.toBe(false);
      return message as amqplib.GetMessage;
    });
    expect(String(dead.properties.headers?.[REASON_HEADER])).toMatch(/^not a ResourceStatus: /);
    expect(dead.fields.routingKey).toBe("intruder");
    // Only the API listens: the workers, which only publish, hold no queue and dead-letter nothing.
    expect((await channel.checkQueue(QUEUES.dead)).messageCount).toBe(0);
  });
});
