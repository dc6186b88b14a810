// Issue 26.1: the broker keeps tenants apart, enforced by RabbitMQ itself. A node of the test's
// own is prepared as docs/SECURITY.md says (`taskexec broker setup`, then `taskexec broker grant`
// for each principal), a cluster runs on it with its api and worker users, and submitters try
// what the attack found with the broker URL they were handed. Real binaries, PostgreSQL.
import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { signToken } from "../../../src/security/token-signer.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";
import { runCli } from "../../helpers/cli.js";
import { type Member, startDistributed, waitFor } from "../../helpers/cluster.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../../helpers/postgres.js";
import { canStartRabbitNode, type RabbitNode, startRabbitNode } from "../../helpers/rabbitmq-node.js";
import { killServes } from "../../helpers/serve.js";
import { TEST_SECRET } from "../../helpers/service.js";
import { tempDir } from "../../helpers/temp.js";

const available = (await postgresForTests()) && (await canStartRabbitNode());

/** What the broker answers `act` with, on a channel of `url`'s user: "allowed", or its refusal. */
async function tryAs(
  url: string,
  act: (channel: amqplib.ConfirmChannel) => Promise<unknown>,
): Promise<string> {
  const connection = await amqplib.connect(url);
  connection.on("error", () => {});
  try {
    const channel = await connection.createConfirmChannel();
    let closedWith: Error | undefined;
    channel.on("error", (error: Error) => (closedWith = error));
    try {
      await act(channel);
      await channel.waitForConfirms();
      return "allowed";
    } catch (error) {
      return (closedWith ?? (error as Error)).message;
    }
  } finally {
    await connection.close().catch(() => {});
  }
}

describe.runIf(available)("a broker that keeps tenants apart (issue 26.1)", () => {
  let node: RabbitNode;
  let db: TestDatabase;
  let api: Member;
  const tmp = tempDir();
  /** Each principal's broker URL, as `taskexec broker grant` printed it. */
  const urls: Record<string, string> = {};
  const clients: TaskClient[] = [];

  const grant = async (sub: string, role: string) => {
    const granted = await runCli(
      [
        "broker",
        "grant",
        "--url",
        node.adminUrl,
        "--management",
        node.managementUrl,
        "--sub",
        sub,
        "--role",
        role,
      ],
      { timeoutMs: 30_000 },
    );
    expect(granted.stderr).toBe("");
    expect(granted.code).toBe(0);
    urls[sub] = /its broker URL: (\S+)/.exec(granted.stdout)![1]!;
  };
  const clientOf = async (sub: string) => {
    const token = await signToken(TEST_SECRET, { sub, roles: ["submitter"], ttl: "30m" });
    const client = new TaskClient({ url: urls[sub]!, token, api: api.url, answerTimeoutMs: 15_000 });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [node, db] = await Promise.all([startRabbitNode(), createTestDatabase()]);
    const setup = await runCli(["broker", "setup", "--url", node.adminUrl], { timeoutMs: 30_000 });
    expect(setup.code).toBe(0);
    for (const [sub, role] of [
      ["api-1", "api"],
      ["worker-1", "worker"],
      ["alice", "submitter"],
      ["bob", "submitter"],
      ["alice.smith", "submitter"],
    ])
      await grant(sub!, role!);
    const quick = { TASKEXEC_HEARTBEAT_MS: "300", TASKEXEC_POLL_MS: "300" };
    api = await startDistributed("api", tmp.dir, "api", { database: db.url, broker: urls["api-1"]! }, quick);
    await startDistributed(
      "worker",
      tmp.dir,
      "worker",
      { database: db.url, broker: urls["worker-1"]! },
      quick,
    );
  }, 180_000);
  afterAll(async () => {
    for (const c of clients) await c.close();
    killServes();
    await Promise.all([node?.stop(), db?.drop()]);
    tmp.remove();
  });

  it("runs the cluster on its restricted users, and a submitter's TaskClient works with its own (it declared the topology and died before)", async () => {
    const alice = await clientOf("alice");
    const task = await alice.submit({ type: "sleep", parameters: { ms: 10 } });
    const seen = [];
    for await (const status of alice.watch(task.id)) seen.push(status.body.status);
    expect(seen.at(-1)).toBe("completed");
  }, 60_000);

  it("says plainly what is wrong with a broker command: exit 2 for a mistake in the call, 1 for an API it cannot reach, never a stack trace", async () => {
    const role = await runCli(["broker", "grant", "--url", node.adminUrl, "--sub", "x", "--role", "boss"]);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role: use submitter, worker, api/);
    const url = await runCli(["broker", "setup", "--url", "http://127.0.0.1:1"]);
    expect(url.code).toBe(2);
    expect(url.stderr).toMatch(/must start with amqp:\/\/ or amqps:\/\//);
    // A management API that is not there is named, with what to check.
    const away = await runCli(
      [
        "broker",
        "grant",
        "--url",
        node.adminUrl,
        "--management",
        "http://admin:admin@127.0.0.1:1",
        "--sub",
        "x",
        "--role",
        "api",
      ],
      { timeoutMs: 30_000 },
    );
    expect(away.code).toBe(1);
    expect(away.stderr).toMatch(/cannot reach RabbitMQ's management API at http:\/\/127\.0\.0\.1:1/);
    expect(role.stderr + url.stderr + away.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it("refuses a submitter what is not its own: other submitters' statuses, the submissions, publishing as the cluster", async () => {
    const alice = urls.alice!;
    const bindStatus = (key: string) => async (channel: amqplib.ConfirmChannel) => {
      const { queue } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(queue, EXCHANGES.status, key);
    };
    expect(await tryAs(alice, bindStatus("alice.*"))).toBe("allowed");
    for (const key of ["#", "*.*", "bob.#", "bob.*", "*.rejected"])
      expect(await tryAs(alice, bindStatus(key)), key).toMatch(/ACCESS_REFUSED/);
    // A copy of every submission, with the submitters' tokens inside.
    const copy = async (channel: amqplib.ConfirmChannel) => {
      const { queue } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(queue, EXCHANGES.submit, "submit_task");
    };
    expect(await tryAs(alice, copy)).toMatch(/ACCESS_REFUSED/);
    // Consuming beside the api (it stole 10 of 20 before).
    expect(await tryAs(alice, (channel) => channel.consume(QUEUES.submissions, () => {}))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await tryAs(alice, (channel) => channel.consume(QUEUES.tasks, () => {}))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await tryAs(alice, (channel) => channel.consume(QUEUES.dead, () => {}))).toMatch(/ACCESS_REFUSED/);
    // Publishing as the cluster: a status, a heartbeat, work, a dead letter.
    const body = Buffer.from("{}");
    for (const exchange of [EXCHANGES.status, EXCHANGES.resources, EXCHANGES.dead])
      expect(await tryAs(alice, async (c) => c.publish(exchange, "alice.x", body)), exchange).toMatch(
        /ACCESS_REFUSED/,
      );
    expect(await tryAs(alice, async (c) => c.sendToQueue(QUEUES.tasks, body))).toMatch(/ACCESS_REFUSED/);
    // Nor may it reshape the topology.
    expect(await tryAs(alice, (c) => c.deleteQueue(QUEUES.tasks))).toMatch(/ACCESS_REFUSED/);
    expect(await tryAs(alice, (c) => c.assertExchange("taskexec.mine", "fanout"))).toMatch(/ACCESS_REFUSED/);
    // The worker may take work but not the submissions.
    expect(await tryAs(urls["worker-1"]!, (c) => c.consume(QUEUES.submissions, () => {}))).toMatch(
      /ACCESS_REFUSED/,
    );
  }, 60_000);

  it("hears each submitter's statuses on its own routing keys only: alice hears none of alice.smith's or bob's", async () => {
    // alice, on her own keys (all she may bind), taps what reaches them.
    const heard: string[] = [];
    const tap = await amqplib.connect(urls.alice!);
    try {
      const channel = await tap.createChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(queue, EXCHANGES.status, "alice.#");
      await channel.consume(queue, (m) => m && heard.push(m.fields.routingKey), { noAck: true });
      const [bob, smith] = [await clientOf("bob"), await clientOf("alice.smith")];
      const theirs = [
        ...(await bob.submitMany(Array.from({ length: 5 }, () => ({ type: "noop" })))),
        ...(await smith.submitMany(Array.from({ length: 5 }, () => ({ type: "noop" })))),
      ];
      expect(theirs.every((r) => r.ok)).toBe(true);
      for (const [client, result] of theirs.map((r, i) => [i < 5 ? bob : smith, r] as const)) {
        const ends = [];
        for await (const s of client.watch(result.id!)) ends.push(s.body.status);
        expect(ends.at(-1)).toBe("completed");
      }
      const mine = await (await clientOf("alice")).submit({ type: "noop" });
      await waitFor("alice's own statuses", async () => heard.some((key) => key.endsWith(mine.id)), 15_000);
      expect(heard.every((key) => key.startsWith("alice."))).toBe(true);
      expect(heard.filter((key) => theirs.some((r) => key.endsWith(r.id!)))).toEqual([]);
    } finally {
      await tap.close();
    }
  }, 90_000);
});
