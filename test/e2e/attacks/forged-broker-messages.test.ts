// Issue 26.2: whoever can publish on the broker cannot speak for the cluster. Each message kind
// the api, the workers and the broker client hear is signed by an executor with the cluster's
// key; a forged, unsigned, wrong-role or replayed one is dead-lettered with why, counted, and
// changes nothing. Real binaries (`taskexec api` and `worker`), the machine's RabbitMQ (a vhost
// per test) and PostgreSQL (a database per test); the attacker holds the broker URL alone.
import amqplib from "amqplib";
import { describe, expect, it, vi } from "vitest";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { encodeResourceStatus } from "../../../src/resources/resource-status-codec.js";
import { MessageSigner, signingKey } from "../../../src/security/message-signature.js";
import { signToken } from "../../../src/security/token-signer.js";
import { REASON_HEADER } from "../../../src/transport/amqp/dead-letter.js";
import { SIGNATURE_HEADER } from "../../../src/transport/amqp/message-proof.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";
import { type Member, submitMessage, waitFor } from "../../helpers/cluster.js";
import { useDistributedCluster } from "../../helpers/distributed-cluster.js";
import { postgresForTests } from "../../helpers/postgres.js";
import { rabbitForTests } from "../../helpers/rabbitmq.js";
import { TEST_SECRET } from "../../helpers/service.js";

const available = (await postgresForTests()) && (await rabbitForTests());

/** A key that is not the cluster's: what a forger without the secret signs with. */
const strangerKey = await signingKey({ secret: "not-the-cluster-secret-not-the-cluster-secret" });
const clusterKey = await signingKey({ secret: TEST_SECRET });

/** A heartbeat of a node with 100 GPUs, as a worker would publish it. */
const phantom = (nodeId: string, gpu: number) =>
  Buffer.from(
    encodeResourceStatus({
      nodeId,
      bootId: `${nodeId}-boot`,
      at: Date.now(),
      capacity: { cpu: 64, memory_mb: 1 << 20, gpu },
      allocated: {},
      runningTasks: 0,
      waitingTasks: 0,
      handlerTypes: ["noop", "sleep"],
    }),
  );

/** The dead-lettered messages' reasons, by where they came from, read off taskexec.dead. */
async function deadReasons(channel: amqplib.Channel): Promise<{ from: string; reason: string }[]> {
  const out = [];
  for (;;) {
    const message = await channel.get(QUEUES.dead, { noAck: true });
    if (message === false) return out;
    const headers = message.properties.headers ?? {};
    out.push({ from: String(headers["x-taskexec-from"]), reason: String(headers[REASON_HEADER]) });
  }
}

const metricsOf = async (member: Member) => (await fetch(`${member.url}/metrics`)).text();

const refusedCount = (metrics: string, from: string) =>
  Number(
    new RegExp(`taskexec_broker_messages_refused_total\\{from="${from}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0,
  );

describe.runIf(available)("forged messages on the broker (issue 26.2)", () => {
  const c = useDistributedCluster([]);

  it("refuses forged, unsigned, wrong-role and replayed heartbeats: no phantom node, no live node changed", async () => {
    const api = await c.start("api", "api");
    await c.start("worker", "w1", { TASKEXEC_RESOURCES: '{"cpu":4,"memory_mb":4096,"gpu":0}' });
    await c.liveWorkers(api, 1);
    const nodesOf = async () =>
      ((await c.get(api, "/v1/resources")) as { nodes: { node: string; capacity: { gpu?: number } }[] })
        .nodes;
    const [w1] = await nodesOf();
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      // A copy of every heartbeat, as anyone who may bind a queue to taskexec.resources gets it.
      const { queue: tap } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(tap, EXCHANGES.resources, "#");
      const publish = (nodeId: string, content: Buffer, headers?: Record<string, unknown>) =>
        channel.publish(EXCHANGES.resources, nodeId, content, { headers });
      const content = phantom("phantom", 100);
      publish("phantom", content);
      publish("phantom", content, { [SIGNATURE_HEADER]: "not.a.signature" });
      const stranger = new MessageSigner(strangerKey, "worker:phantom", ["executor"]);
      publish("phantom", content, { [SIGNATURE_HEADER]: await stranger.sign(content) });
      // The cluster's key, but a submitter's role: not an executor's word.
      const submitter = new MessageSigner(clusterKey, "mallory", ["submitter"]);
      publish("phantom", content, { [SIGNATURE_HEADER]: await submitter.sign(content) });
      // The live worker made to look empty, unsigned.
      const empty = phantom(w1!.node, 0);
      publish(w1!.node, empty);
      // A real heartbeat of w1's, heard on the tap and published again as it was.
      const heard = await vi.waitFor(
        async () => {
          const message = await channel.get(tap, { noAck: true });
          const signed = message !== false && message.properties.headers?.[SIGNATURE_HEADER] !== undefined;
          if (!signed || message.fields.routingKey !== w1!.node) throw new Error("no heartbeat of w1's yet");
          return message;
        },
        { timeout: 10_000, interval: 100 },
      );
      publish(heard.fields.routingKey, heard.content, heard.properties.headers);
      await channel.waitForConfirms();

      await waitFor(
        "six refusals",
        async () => refusedCount(await metricsOf(api), "taskexec.resources") === 6,
      );
      const reasons = await deadReasons(channel);
      expect(reasons).toHaveLength(6);
      expect(
        reasons.every((r) => r.reason.startsWith("unauthenticated:") || r.reason.startsWith("forbidden:")),
      ).toBe(true);
      expect(reasons.filter((r) => /must hold an executor's signature/.test(r.reason))).toHaveLength(2);
      expect(reasons.filter((r) => /seen before/.test(r.reason))).toHaveLength(1);
      expect(reasons.filter((r) => r.reason.startsWith("forbidden:"))).toHaveLength(1);
      // A while later (several heartbeats), the api still knows one node, as it is.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await nodesOf()).toEqual([expect.objectContaining({ node: w1!.node, capacity: w1!.capacity })]);
      // Found: a gpu: 50 task was accepted for the phantom and never ran. Now no node can fit it.
      const gpu = await c.post(api, "/v1/tasks", {
        ...submitMessage("noop", {}, "wants-gpus"),
        body: {
          priority: 5,
          task_specification: { type: "noop", parameters: {}, requirements: { gpu: 50 } },
        },
      });
      expect(gpu.status).toBe(422);
      expect(JSON.stringify(gpu.body)).toContain("resource_unsatisfiable");
    } finally {
      await connection.close();
    }
  }, 90_000);

  it("refuses forged work on taskexec.tasks: dead-lettered with why, nothing claimed or run", async () => {
    const api = await c.start("api", "api");
    const worker = await c.start("worker", "w1");
    await c.liveWorkers(api, 1);
    const accepted = await c.post(api, "/v1/tasks", submitMessage("sleep", { ms: 10 }, "genuine"));
    expect(accepted.status).toBe(202);
    await waitFor("the genuine task to complete", async () => (await c.countStates()).completed === 1);
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      const work = (taskId: string) =>
        Buffer.from(JSON.stringify({ task_id: taskId, priority: 5, type: "noop", requirements: {} }));
      const send = (content: Buffer, headers?: Record<string, unknown>) =>
        channel.sendToQueue(QUEUES.tasks, content, { persistent: true, headers });
      const taskId = (accepted.body.header as { task_id: string }).task_id;
      send(work(taskId));
      const stranger = new MessageSigner(strangerKey, "api:x", ["executor"]);
      send(work(taskId), { [SIGNATURE_HEADER]: await stranger.sign(work(taskId), { work: true }) });
      // The cluster's key, but a status's signature (short-lived, once) on work.
      const status = new MessageSigner(clusterKey, "api:x", ["executor"]);
      send(work(taskId), { [SIGNATURE_HEADER]: await status.sign(work(taskId)) });
      await channel.waitForConfirms();
      await waitFor(
        "three refusals",
        async () => refusedCount(await metricsOf(worker), "taskexec.tasks") === 3,
      );
      expect(await metricsOf(worker)).toMatch(
        /^taskexec_dead_letters_total\{from="taskexec.tasks",reason="refused"\} 3$/m,
      );
      const reasons = await deadReasons(channel);
      expect(reasons.map((r) => r.from)).toEqual([QUEUES.tasks, QUEUES.tasks, QUEUES.tasks]);
      expect(reasons[0]!.reason).toMatch(/must hold an executor's signature/);
      expect(reasons[2]!.reason).toMatch(/another kind of message/);
      // The task ran once, and is as it was.
      const snapshot = await c.get(api, `/v1/tasks/${taskId}`);
      expect(snapshot).toMatchObject({ state: "completed", attempts: 1 });
    } finally {
      await connection.close();
    }
  }, 90_000);

  it("has the broker client hear only what the cluster signed: a forged `completed` ends no watch", async () => {
    const api = await c.start("api", "api");
    await c.start("worker", "w1");
    await c.liveWorkers(api, 1);
    const token = await signToken(TEST_SECRET, { sub: "bob", roles: ["submitter"], ttl: "30m" });
    // A token and no way to check what is heard: refused at once, not trusted blindly.
    expect(() => new TaskClient({ url: c.vhost.url, token })).toThrow(/`api`.*`keys`/);
    const client = new TaskClient({ url: c.vhost.url, token, api: api.url, answerTimeoutMs: 10_000 });
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const task = await client.submit({ type: "sleep", parameters: { ms: 1_500 } });
      const watched = (async () => {
        const seen = [];
        for await (const s of client.watch(task.id)) seen.push(s);
        return seen;
      })();
      // The forger publishes Bob's task "completed" with its own result: unsigned, then signed
      // with a key that is not the cluster's.
      const channel = await connection.createConfirmChannel();
      const forged = {
        type: "task_status",
        header: {
          message_id: "forged",
          reference_id: task.status.header.reference_id,
          task_id: task.id,
          timestamp: new Date().toISOString(),
          sequence: 50,
        },
        body: { status: "completed", details: { event: "task_completed", result: { forged: true } } },
      };
      const body = JSON.stringify(forged);
      channel.publish(EXCHANGES.status, `bob.${task.id}`, Buffer.from(body));
      const auth = await new MessageSigner(strangerKey, "worker:x", ["executor"]).sign(body);
      const signed = { ...forged, header: { ...forged.header, message_id: "forged-2", auth } };
      channel.publish(EXCHANGES.status, `bob.${task.id}`, Buffer.from(JSON.stringify(signed)));
      await channel.waitForConfirms();
      const seen = await watched;
      const last = seen.at(-1)!;
      expect(last.body.status).toBe("completed");
      expect(last.body.details?.result).not.toEqual({ forged: true });
      expect(seen.map((s) => s.header.message_id)).not.toContain("forged");
      expect(seen.map((s) => s.header.message_id)).not.toContain("forged-2");
      const reasons = await deadReasons(channel);
      // Refused by the client's queue, and by the api's, which hears every status.
      expect(reasons.filter((r) => /header\.auth/.test(r.reason)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await client.close();
      await connection.close();
    }
  }, 90_000);
});
