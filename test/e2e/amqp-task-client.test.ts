import type { JSONWebKeySet } from "jose";
// TaskClient's AMQP flavour against a real cluster (an api and a worker, the built binaries) on the
// machine's RabbitMQ (a vhost of its own) and PostgreSQL (a database of its own).
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateResultKey } from "../../src/client/client-encryption.js";
import { TaskClient } from "../../src/client/url-task-client.js";
import { TaskexecError, TaskRejectedError } from "../../src/protocol/errors.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { signToken } from "../../src/security/token-signer.js";
import { adminHeaders, type Member, startDistributed } from "../helpers/cluster.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../helpers/postgres.js";
import { createTestVhost, rabbitForTests, type TestVhost } from "../helpers/rabbitmq.js";
import { killServes } from "../helpers/serve.js";
import { TEST_SECRET } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

const available = (await postgresForTests()) && (await rabbitForTests());

const collect = async (statuses: AsyncIterable<TaskStatus>) => {
  const out: TaskStatus[] = [];
  for await (const status of statuses) out.push(status);
  return out;
};

describe.runIf(available)("TaskClient over the broker (amqp://)", () => {
  let db: TestDatabase;
  let vhost: TestVhost;
  let tmp: ReturnType<typeof tempDir>;
  let api: Member;
  const clients: TaskClient[] = [];
  const client = async (sub: string, options: { api?: boolean; token?: string } = {}) => {
    const token = options.token ?? (await signToken(TEST_SECRET, { sub, roles: ["submitter"], ttl: "30m" }));
    // Without the api's URL, the cluster's public keys are handed over (served to anyone at /v1/keys).
    const keys = options.api
      ? undefined
      : ((await (await fetch(`${api.url}/v1/keys`)).json()) as JSONWebKeySet);
    const made = new TaskClient({
      url: vhost.url,
      token,
      api: options.api ? api.url : undefined,
      keys,
      answerTimeoutMs: 10_000,
    });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    [db, vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    tmp = tempDir();
    const urls = { database: db.url, broker: vhost.url };
    const quick = { TASKEXEC_HEARTBEAT_MS: "300", TASKEXEC_POLL_MS: "300" };
    api = await startDistributed("api", tmp.dir, "api", urls, quick);
    await startDistributed("worker", tmp.dir, "worker", urls, quick);
    // Submissions are refused until the api has heard of a worker that runs the type.
    for (let i = 0; i < 100; i++) {
      const answer = await fetch(`${api.url}/v1/resources`, { headers: await adminHeaders() });
      const { nodes } = (await answer.json()) as { nodes?: unknown[] };
      if ((nodes ?? []).length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) await c.close();
    killServes();
    await Promise.all([db?.drop(), vhost?.remove()]);
    tmp?.remove();
  });

  it("submits, is answered with the acceptance, and watches the task to completed, every status once and in order", async () => {
    const alice = await client("alice");
    expect(alice.transport).toBe("amqp");
    const task = await alice.submit({ type: "sleep", parameters: { ms: 50 }, messageId: "amqp-1" });
    expect(task.duplicate).toBe(false);
    expect(task.status.body.details?.event).toBe("task_accepted");
    const statuses = await collect(alice.watch(task.id));
    expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
    expect(statuses.at(-1)!.body.status).toBe("completed");
    expect(statuses.map((s) => s.body.details?.event)).toContain("execution_started");
    expect(new Set(statuses.map((s) => s.header.task_id))).toEqual(new Set([task.id]));

    // The same message id again: the same task, said to be a duplicate, nothing new created.
    const again = await alice.submit({ type: "sleep", parameters: { ms: 50 }, messageId: "amqp-1" });
    expect(again).toMatchObject({ id: task.id, duplicate: true });
    expect(again.status.body.status).toBe("completed");
  });

  it("submits many in one go, each answered on its own: one bad request spoils nothing", async () => {
    const alice = await client("alice");
    const results = await alice.submitMany([
      { type: "sleep", parameters: { ms: 1 } },
      { type: "no-such-type" },
      { type: "sleep", parameters: { ms: -5 } },
      { type: "noop" },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false, true]);
    expect(results[1]).toMatchObject({ ok: false, id: null, error: { code: "handler_not_found" } });
    expect(results[2]).toMatchObject({ ok: false, error: { code: "validation_failed" } });
    for (const r of results)
      if (r.ok) expect((await collect(alice.watch(r.id))).at(-1)!.body.status).toBe("completed");
  });

  it("throws the rejection's code for a submission refused", async () => {
    const alice = await client("alice");
    const refused = alice.submit({ type: "sleep", parameters: { ms: 1 }, requirements: { gpu: 4 } });
    await expect(refused).rejects.toBeInstanceOf(TaskexecError);
    await expect(refused).rejects.toMatchObject({ code: "resource_unsatisfiable" });
    await expect(alice.submit({ type: "sleep", parameters: {} })).rejects.toBeInstanceOf(TaskRejectedError);
  });

  it("cancels a running task (its handler is aborted on the worker) and answers a finished one's cancel with how it ended", async () => {
    const alice = await client("alice");
    const task = await alice.submit({ type: "sleep", parameters: { ms: 60_000 } });
    const watched = collect(alice.watch(task.id));
    // Cancel once it runs, so that the cancel has to reach the worker.
    for await (const status of alice.watch(task.id))
      if (status.body.details?.event === "execution_started") break;
    const cancelled = await alice.cancel(task.id, "changed my mind");
    expect(cancelled.body.status).toBe("cancelled");
    expect((await watched).at(-1)!.body.status).toBe("cancelled");
    expect((await alice.cancel(task.id)).body.status).toBe("cancelled");

    const done = await alice.submit({ type: "noop" });
    await collect(alice.watch(done.id));
    expect((await alice.cancel(done.id)).body.status).toBe("completed");
  });

  it("answers a cancel of a task that is not the submitter's, or not there, with not_found", async () => {
    const alice = await client("alice");
    const bob = await client("bob");
    const task = await alice.submit({ type: "sleep", parameters: { ms: 10_000 } });
    await expect(bob.cancel(task.id)).rejects.toMatchObject({ code: "not_found" });
    await expect(alice.cancel("01900000-0000-7000-8000-000000000000")).rejects.toMatchObject({
      code: "not_found",
    });
    await alice.cancel(task.id);
  });

  it("reads tasks over HTTP when given the api's URL, and says so plainly when not", async () => {
    const without = await client("carol");
    await expect(without.get("anything")).rejects.toThrow(/needs the api's HTTP URL/);
    const carol = await client("carol", { api: true });
    const task = await carol.submit({ type: "noop" });
    await collect(carol.watch(task.id));
    expect((await carol.get(task.id)).state).toBe("completed");
    expect((await carol.list()).tasks.map((t) => t.id)).toContain(task.id);
    expect((await carol.types()).map((t) => t.type)).toContain("sleep");
    // A task submitted elsewhere: its whole history, from the api.
    const elsewhere = await (await client("carol")).submit({ type: "noop" });
    const history = await collect(carol.watch(elsewhere.id));
    expect(history[0]!.header.sequence).toBe(1);
    expect(history.at(-1)!.body.status).toBe("completed");
  });

  it("refuses to send with an expired token, at once and with its code", async () => {
    const expired = await new SignJWT({ roles: ["submitter"] })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject("dave")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(TEST_SECRET));
    const late = await client("dave", { token: expired });
    await expect(late.submit({ type: "noop" })).rejects.toMatchObject({ code: "unauthenticated" });
  });

  it("encrypts for the executors, and opens the results the worker encrypted for its own key", async () => {
    const token = await signToken(TEST_SECRET, { sub: "erin", roles: ["submitter"], ttl: "30m" });
    const resultKey = await generateResultKey();
    const erin = new TaskClient({
      url: vhost.url,
      token,
      api: api.url,
      encrypt: true,
      resultKey,
      answerTimeoutMs: 10_000,
    });
    clients.push(erin);
    const task = await erin.submit({ type: "sleep", parameters: { ms: 7 } });
    const statuses = await collect(erin.watch(task.id));
    expect(statuses.at(-1)!.body).toMatchObject({
      status: "completed",
      details: { result: { slept_ms: 7 } },
    });
    expect((await erin.get(task.id)).result).toEqual({ slept_ms: 7 });
    // Anyone else reading it (here the admin) gets the JWE the worker made.
    const raw = (await (
      await fetch(`${api.url}/v1/tasks/${task.id}`, { headers: await adminHeaders() })
    ).json()) as {
      result: unknown;
      parameters: unknown;
    };
    expect(raw.parameters).toEqual({ ms: 7 });
    expect(typeof raw.result).toBe("string");
    expect((raw.result as string).split(".")).toHaveLength(5);
  });
});
