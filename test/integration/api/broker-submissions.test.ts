// submit_task and cancel_task over RabbitMQ (SPEC §4), against an executor on SQLite: the broker
// door of the admission side, with a real broker in a vhost of its own.
import { randomUUID } from "node:crypto";
import amqplib from "amqplib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokerSubmissions } from "../../../src/api/broker-submissions.js";
import { createLogger } from "../../../src/observability/logger.js";
import type { TaskStatus } from "../../../src/protocol/task-status.js";
import { SubmissionGuard } from "../../../src/security/submission-guard.js";
import { signToken } from "../../../src/security/token-signer.js";
import { createTokenVerifier } from "../../../src/security/token-verifier.js";
import { AmqpConnection } from "../../../src/transport/amqp/amqp-connection.js";
import { AmqpStatusBus } from "../../../src/transport/amqp/amqp-status-bus.js";
import { REASON_HEADER } from "../../../src/transport/amqp/dead-letter.js";
import { EXCHANGES, QUEUES } from "../../../src/transport/amqp/topology.js";
import { type Harness, startExecutor } from "../../helpers/executor.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../../helpers/rabbitmq.js";
import { TEST_SECRET } from "../../helpers/service.js";

const available = await rabbitForTests();

describe.runIf(available)("submissions over the broker", () => {
  let vhost: TestVhost;
  let h: Harness;
  let connection: AmqpConnection;
  let bus: AmqpStatusBus;
  let door: BrokerSubmissions;
  let raw: amqplib.ChannelModel;
  let channel: amqplib.ConfirmChannel;
  /** What alice hears on taskexec.status (bound to alice.*). */
  let heard: TaskStatus[];

  beforeEach(async () => {
    vhost = await createTestVhost();
    h = await startExecutor({ auth: { jwt_secret: TEST_SECRET, clock_tolerance_s: 0 } });
    const options = h.executor.options;
    connection = await AmqpConnection.open({ url: vhost.url, name: "api" });
    bus = await AmqpStatusBus.open(connection);
    door = await BrokerSubmissions.start(connection, {
      log: createLogger({ level: "silent" }),
      executor: h.executor.engine,
      verifier: createTokenVerifier(options.auth),
      guard: new SubmissionGuard(options.limits),
      bus,
      prefetch: 50,
      bodyLimit: options.http.body_limit,
      onError: (error) => {
        throw error;
      },
    });
    raw = await amqplib.connect(vhost.url);
    channel = await raw.createConfirmChannel();
    heard = [];
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, EXCHANGES.status, "alice.*");
    await channel.consume(queue, (m) => m && heard.push(JSON.parse(m.content.toString()) as TaskStatus), {
      noAck: true,
    });
  });
  afterEach(async () => {
    await raw.close();
    await door.stop();
    await bus.close();
    await connection.close();
    await h.cleanup();
    await vhost.remove();
  });

  const token = (sub = "alice", roles: ("submitter" | "admin" | "executor")[] = ["submitter"], ttl = "1h") =>
    signToken(TEST_SECRET, { sub, roles, ttl });
  const submit = (auth: string | undefined, messageId: string = randomUUID(), type = "noop") => ({
    type: "submit_task",
    header: {
      message_id: messageId,
      timestamp: new Date().toISOString(),
      ...(auth !== undefined && { auth }),
    },
    body: { task_specification: { type, parameters: {} }, priority: 5 },
  });
  const send = async (message: unknown, routingKey = "submit_task") => {
    const content = Buffer.isBuffer(message) ? message : Buffer.from(JSON.stringify(message));
    channel.publish(EXCHANGES.submit, routingKey, content, { persistent: true });
    await channel.waitForConfirms();
  };
  const deadLetters = async () => {
    const out: { reason: string; body: string }[] = [];
    for (;;) {
      const m = await channel.get(QUEUES.dead, { noAck: true });
      if (m === false) return out;
      out.push({ reason: String(m.properties.headers?.[REASON_HEADER]), body: m.content.toString() });
    }
  };
  /** Takes dead letters off the queue until there are `n` (they arrive as the door gets to them). */
  const collectDead = async (n: number) => {
    const dead: { reason: string; body: string }[] = [];
    await vi.waitFor(async () => {
      dead.push(...(await deadLetters()));
      expect(dead).toHaveLength(n);
    });
    return dead;
  };
  const admin = { id: "admin", admin: true };

  it("treats a broker submission as an HTTP one: accepted, run, and a resubmission answered with the same task", async () => {
    const message = submit(await token(), "job-1");
    await send(message);
    await vi.waitFor(async () => {
      const [task] = (await h.executor.engine.listTasks(admin, {})).tasks;
      expect(task).toMatchObject({ submitter: "alice", reference_id: "job-1", state: "completed" });
    });
    await send(message);
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    const [task] = (await h.executor.engine.listTasks(admin, {})).tasks;
    // The duplicate's answer is the task's latest status; still one task.
    expect(heard[0]).toMatchObject({
      header: { task_id: task!.id, reference_id: "job-1" },
      body: { status: "completed" },
    });
    expect((await h.executor.engine.listTasks(admin, {})).tasks).toHaveLength(1);
    expect(await deadLetters()).toEqual([]);
  });

  it("holds a broker submission to HTTP's limits: over http.body_limit or prototype-poisoned, refused before parsing, dead-lettered once and cut short (issue 25.11)", async () => {
    const big = submit(await token(), "too-big");
    (big.body.task_specification.parameters as Record<string, unknown>).blob = "x".repeat(2 * 1024 * 1024);
    await send(big);
    const poisoned = Buffer.from(
      JSON.stringify(submit(await token(), "poisoned")).replace(
        '"parameters":{}',
        '"parameters":{"__proto__":{"x":1}}',
      ),
    );
    await send(poisoned);
    await send(submit(await token(), "fine"));
    const dead = await collectDead(2);
    expect(dead.map((d) => d.reason).sort()).toEqual(
      [
        expect.stringMatching(/^malformed: not taken: a "__proto__"/),
        expect.stringMatching(
          /^malformed: the message is \d+ bytes, more than the 1048576 taken \(http.body_limit\)$/,
        ),
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    expect(dead.find((d) => d.reason.includes("bytes"))!.body.length).toBe(4_096);
    await vi.waitFor(async () => {
      const { tasks } = await h.executor.engine.listTasks(admin, {});
      expect(tasks.map((t) => t.reference_id)).toEqual(["fine"]);
    });
    expect(await deadLetters()).toEqual([]);
  });

  it("rejects, audits and dead-letters a missing, expired or forged token, and creates nothing", async () => {
    const forged = await signToken("another-secret-another-secret-0123456789", {
      sub: "alice",
      roles: ["admin"],
      ttl: "1h",
    });
    const expired = await token("alice", ["submitter"], "1s");
    await new Promise((r) => setTimeout(r, 2_100)); // exp counts whole seconds
    await send(submit(undefined, "no-token"));
    await send(submit(expired, "expired"));
    await send(submit(forged, "forged"));
    await send(submit(await token("mallory", ["executor"]), "wrong-role"));
    await vi.waitFor(async () => expect(await h.executor.engine.queryAudit({ limit: 10 })).toHaveLength(4));
    const audit = await h.executor.engine.queryAudit({ limit: 10 });
    // Taken concurrently (up to the prefetch): in any order.
    expect(audit.map((a) => [a.messageId, a.decision, a.principal]).sort()).toEqual([
      ["expired", "unauthenticated", "unknown"],
      ["forged", "unauthenticated", "unknown"],
      ["no-token", "unauthenticated", "unknown"],
      ["wrong-role", "forbidden", "mallory"],
    ]);
    const dead = await collectDead(4);
    expect(dead.map((d) => d.reason.split(":")[0]).sort()).toEqual([
      "forbidden",
      "unauthenticated",
      "unauthenticated",
      "unauthenticated",
    ]);
    expect((await h.executor.engine.listTasks(admin, {})).tasks).toEqual([]);
  });

  it("answers a rejected submission on taskexec.status and dead-letters it; cancels by reference", async () => {
    const alice = await token();
    await send(submit(alice, "bad-type", "no_such_type"));
    await vi.waitFor(() => expect(heard).toHaveLength(1));
    expect(heard[0]).toMatchObject({
      header: { task_id: null, reference_id: "bad-type" },
      body: { status: "rejected" },
    });
    const [dead] = await collectDead(1);
    expect(dead!.reason).toMatch(/^handler_not_found: /);
    // A long task, cancelled over the broker by its message id.
    const long = {
      ...submit(alice, "long", "sleep"),
      body: { task_specification: { type: "sleep", parameters: { ms: 60_000 } }, priority: 5 },
    };
    await send(long);
    await vi.waitFor(async () =>
      expect((await h.executor.engine.listTasks(admin, { state: "executing" })).tasks).toHaveLength(1),
    );
    await send(
      {
        type: "cancel_task",
        header: { message_id: randomUUID(), timestamp: new Date().toISOString(), auth: alice },
        body: { reference_id: "long", reason: "no longer needed" },
      },
      "cancel_task",
    );
    await vi.waitFor(async () =>
      expect(
        (await h.executor.engine.listTasks(admin, {})).tasks.find((t) => t.reference_id === "long")?.state,
      ).toBe("cancelled"),
    );
  });

  it("answers a submission over the rate limit with a rejected status on taskexec.status, and dead-letters it", async () => {
    await door.stop();
    const deadLettered: string[] = [];
    door = await BrokerSubmissions.start(connection, {
      log: createLogger({ level: "silent" }),
      executor: h.executor.engine,
      verifier: createTokenVerifier(h.executor.options.auth),
      guard: new SubmissionGuard({ ...h.executor.options.limits, submit_per_minute: 2 }),
      bus,
      prefetch: 1,
      bodyLimit: 1024 * 1024,
      onError: () => {},
      onDeadLettered: (reason) => deadLettered.push(reason),
    });
    const alice = await token();
    for (const id of ["first", "second", "third"]) await send(submit(alice, id));
    await vi.waitFor(() => expect(heard.some((s) => s.header.reference_id === "third")).toBe(true));
    const answer = heard.find((s) => s.header.reference_id === "third")!;
    expect(answer.body).toMatchObject({ status: "rejected", details: { error: { code: "rate_limited" } } });
    const [dead] = await collectDead(1);
    expect(dead!.reason.split(":")[0]).toBe("rate_limited");
    expect(deadLettered).toEqual(["rate_limited"]); // what taskexec_dead_letters_total counts
    expect((await h.executor.engine.listTasks(admin, {})).tasks.map((t) => t.reference_id).sort()).toEqual([
      "first",
      "second",
    ]);
  });

  it("keeps the queue flowing under a flood of 1,000 poison messages", async () => {
    const kinds = [
      Buffer.from("not json {"),
      { type: "launch_missiles" },
      submit("not-a-jwt"),
      { type: "submit_task" },
    ];
    for (let i = 0; i < 1_000; i++) {
      const poison = kinds[i % kinds.length]!;
      channel.publish(
        EXCHANGES.submit,
        "submit_task",
        Buffer.isBuffer(poison) ? poison : Buffer.from(JSON.stringify(poison)),
      );
    }
    await channel.waitForConfirms();
    await send(submit(await token(), "after-the-flood"));
    await vi.waitFor(
      async () =>
        expect(
          (await h.executor.engine.listTasks(admin, {})).tasks.map((t) => [t.reference_id, t.state]),
        ).toEqual([["after-the-flood", "completed"]]),
      { timeout: 30_000, interval: 200 },
    );
    await vi.waitFor(async () => expect((await channel.checkQueue(QUEUES.dead)).messageCount).toBe(1_000), {
      timeout: 30_000,
    });
    expect((await channel.checkQueue(QUEUES.submissions)).messageCount).toBe(0);
  }, 60_000);
});
