// Distributed mode as a cluster relies on it (issue 25): no valid work refused because the api has
// not heard its workers yet (a restart, every worker late or gone a while), the workers' own types
// on the api, and a worker beside the api on one host with one config. Real binaries, the
// machine's RabbitMQ (a vhost per test) and PostgreSQL (a database per test).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import amqplib from "amqplib";
import { describe, expect, it } from "vitest";
import { MessageSigner, signingKey } from "../../src/security/message-signature.js";
import { signToken } from "../../src/security/token-signer.js";
import { SIGNATURE_HEADER } from "../../src/transport/amqp/message-proof.js";
import { EXCHANGES, QUEUES } from "../../src/transport/amqp/topology.js";
import { submitMessage, waitFor, withDatabase } from "../helpers/cluster.js";
import { type DistributedCluster, QUICK, useDistributedCluster } from "../helpers/distributed-cluster.js";
import { postgresForTests } from "../helpers/postgres.js";
import { rabbitForTests } from "../helpers/rabbitmq.js";
import { freePort, serve, serveEnv } from "../helpers/serve.js";
import { TEST_SECRET } from "../helpers/service.js";

const HANDLERS = join(import.meta.dirname, "fixtures", "run-log-handler.mjs");
const available = (await postgresForTests()) && (await rabbitForTests());

describe.runIf(available)("distributed mode: what the api accepts while it has not heard its workers", () => {
  const c = useDistributedCluster(["--handlers", HANDLERS]);
  /** The api loads no handler of its own unless asked: the workers' types are theirs alone. */
  const start = (command: "api" | "worker", name: string, env: Record<string, string> = {}) =>
    c.start(command, name, env, command === "api" ? [] : ["--handlers", HANDLERS]);
  const countStates = () => c.countStates();
  const get: DistributedCluster["get"] = (member, path) => c.get(member, path);
  const post: DistributedCluster["post"] = (member, path, body) => c.post(member, path, body);
  const live = async (api: Parameters<typeof get>[0]) =>
    ((await get(api, "/v1/resources")) as { nodes: { alive: boolean }[] }).nodes.filter((n) => n.alive)
      .length;

  it("accepts the broker submissions that waited while the api was down, from its first moment (issue 25.1)", async () => {
    const api = await start("api", "api");
    await start("worker", "w1");
    await waitFor("the worker to be heard", async () => (await live(api)) === 1);
    api.process.child.kill("SIGKILL");
    await api.process.exited;
    // While no api runs, a submitter publishes 50 valid submissions.
    const token = await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" });
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      for (let i = 0; i < 50; i++) {
        const message = submitMessage("logged", { ms: 0 }, `while-down-${i}`);
        const withAuth = { ...message, header: { ...message.header, auth: token } };
        channel.publish(EXCHANGES.submit, "submit_task", Buffer.from(JSON.stringify(withAuth)), {
          persistent: true,
        });
      }
      await channel.waitForConfirms();
      // The api comes back: it knows the worker from the store before any heartbeat reaches it.
      await start("api", "api-again");
      await waitFor("the 50 to complete", async () => (await countStates()).completed === 50, 60_000);
      expect(await countStates()).toEqual({ completed: 50 });
      expect((await channel.checkQueue(QUEUES.dead)).messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  }, 120_000);

  it("accepts work of the workers' types while every worker is gone a while, says it waits for one, and runs it when one comes (issue 25.1)", async () => {
    const api = await start("api", "api");
    const worker = await start("worker", "w1");
    await waitFor("the worker to be heard", async () => (await live(api)) === 1);
    worker.process.child.kill("SIGKILL");
    await worker.process.exited;
    await waitFor("the worker to be seen dead", async () => (await live(api)) === 0);
    const accepted = await post(api, "/v1/tasks", submitMessage("logged", { ms: 0 }, "no-worker-now"));
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      body: { details: { event: "task_accepted", awaiting_worker: true } },
    });
    // What no worker heard lately runs is still refused at once.
    const unknown = await post(api, "/v1/tasks", submitMessage("nobody_runs_this", {}, "unknown-type"));
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain("handler_not_found");
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/taskexec_tasks_awaiting_worker_total\{type="logged"\} 1/);
    await start("worker", "w2");
    await waitFor("the waiting task to complete", async () => (await countStates()).completed === 1, 30_000);
  }, 120_000);

  it("answers GET /v1/types from the workers: a type only they run, with its description and example (issue 25.2)", async () => {
    const api = await start("api", "api");
    await start("worker", "w1");
    // Named by its first heartbeat on the broker, described once the api read what it recorded.
    await waitFor("the worker's types", async () => {
      const { types } = (await get(api, "/v1/types")) as { types: { type: string; description: unknown }[] };
      return types.some((t) => t.type === "logged" && t.description !== null);
    });
    const { types } = (await get(api, "/v1/types")) as { types: Record<string, unknown>[] };
    expect(types.find((t) => t.type === "logged")).toEqual({
      type: "logged",
      description: "Appends its run to $RUN_LOG, then sleeps `ms` milliseconds",
      parameters_schema: null,
      example: { ms: 10 },
    });
    expect(types.map((t) => t.type)).toEqual(expect.arrayContaining(["noop", "sleep", "logged"]));
  }, 60_000);

  it("starts a worker beside the api on one host with the same config: its health port is its own (issue 25.3)", async () => {
    // One set of variables for both, as one config.yaml would be: the api takes http.port.
    const port = await freePort();
    const shared = serveEnv(join(c.dir, "shared"), port, {
      TASKEXEC_STORE__URL: c.db.url,
      TASKEXEC_MESSAGE_BROKER_URL: c.vhost.url,
      ...QUICK,
    });
    const api = serve(shared, [], "api");
    await api.ready;
    const workers = [serve(shared, [], "worker"), serve(shared, [], "worker")];
    await Promise.all(workers.map((w) => w.ready));
    const healthUrls = workers.map((w) => /health\s+(http:\/\/\S+)\/healthz/.exec(w.output().stdout)?.[1]);
    expect(new Set(healthUrls).size).toBe(2);
    for (const url of healthUrls) {
      expect(url).toBeDefined();
      expect(url).not.toContain(`:${port}`);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    }
    const member = { process: api, url: `http://127.0.0.1:${port}`, port };
    await waitFor("two live workers", async () => (await live(member)) === 2);
    // A worker told to take the api's port exits before it takes work, and is never heard of:
    // no heartbeat of it reaches the api, so no dead node of it shows.
    const refused = serve(shared, ["--port", String(port)], "worker");
    expect(await refused.exited).not.toBe(0);
    expect(refused.output().stderr).toContain("already in use");
    await new Promise((r) => setTimeout(r, 1_000)); // three heartbeat periods: nothing to hear
    const { nodes } = (await get(member, "/v1/resources")) as { nodes: unknown[] };
    expect(nodes).toHaveLength(2);
  }, 60_000);

  it("signs every status for itself: a second api dead-letters none, and a signature read off a status opens nothing over HTTP (issue 25.5)", async () => {
    const [a, b] = [await start("api", "api-a"), await start("api", "api-b")];
    await start("worker", "w1");
    await waitFor("the worker to be heard", async () => (await live(a)) === 1 && (await live(b)) === 1);
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true });
      await channel.bindQueue(queue, EXCHANGES.status, "#");
      const signatures: string[] = [];
      await channel.consume(
        queue,
        (m) => {
          const auth = m && (JSON.parse(m.content.toString()) as { header: { auth?: string } }).header.auth;
          if (auth !== undefined && auth !== null) signatures.push(auth);
        },
        { noAck: true },
      );
      const { status } = await post(a, "/v1/tasks/batch", {
        messages: Array.from({ length: 20 }, (_, i) => submitMessage("logged", { ms: 0 }, `signed-${i}`)),
      });
      expect(status).toBe(207);
      await waitFor("the 20 to complete", async () => (await countStates()).completed === 20, 30_000);
      await waitFor("the statuses to be heard", async () => signatures.length >= 20 * 3);
      // api-b heard every status of the worker and of api-a, and refused none.
      await new Promise((r) => setTimeout(r, 500));
      expect((await channel.checkQueue(QUEUES.dead)).messageCount).toBe(0);
      // The worker's and the api's signatures, as a submitter reading statuses collects them.
      for (const signature of new Set(signatures.slice(0, 5).concat(signatures.slice(-5)))) {
        const response = await fetch(`${a.url}/v1/tasks`, {
          headers: { authorization: `Bearer ${signature}` },
        });
        expect(response.status).toBe(401);
      }
    } finally {
      await connection.close();
    }
  }, 60_000);

  /** "<task id> <attempt> <pid>" lines of a log the fixtures append to. */
  const lines = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split(" "));

  it("fences and aborts a worker frozen past its leases: another recovers them by expiry, and the frozen one's runs record nothing and stop (issues 25.10, 25.14, 25.15)", async () => {
    const api = await start("api", "api");
    const a = await start("worker", "a");
    await waitFor("worker a to be heard", async () => (await live(api)) === 1);
    const { status, body } = await post(api, "/v1/tasks/batch", {
      messages: [
        submitMessage("stubborn", { ms: 9_000 }, "stubborn-1"),
        submitMessage("stubborn", { ms: 9_000 }, "stubborn-2"),
        submitMessage("logged", { ms: 12_000 }, "logged-1"),
        submitMessage("logged", { ms: 12_000 }, "logged-2"),
      ],
    });
    expect(status).toBe(207);
    const ids = (body.results as { body: { header: { task_id: string } } }[]).map(
      (r) => r.body.header.task_id,
    );
    const pidA = String(a.process.child.pid);
    await waitFor(
      "a to run all four",
      async () => lines(c.runLog).filter(([, , pid]) => pid === pidA).length === 4,
    );
    const b = await start("worker", "b");
    const pidB = String(b.process.child.pid);
    // Frozen, not dead: the process exists on this host, so only the leases' expiry frees its tasks
    // (as for a worker on another machine).
    a.process.child.kill("SIGSTOP");
    const leasedBy = (owner: string) =>
      withDatabase(c.db.url, async (c) => {
        const { rows } = await c.query("SELECT 1 FROM tasks WHERE lease_owner LIKE $1", [`%:${owner}:%`]);
        return rows.length;
      });
    try {
      // Recovered by expiry: none is a's any more, and b runs attempt 2 of some (the broker may
      // hand the others to a's consumer, which takes them once it wakes).
      await waitFor("a's leases to be recovered", async () => (await leasedBy(pidA)) === 0, 20_000);
      await waitFor(
        "b to run an attempt 2",
        async () => lines(c.runLog).some(([, attempt, pid]) => pid === pidB && attempt === "2"),
        20_000,
      );
    } finally {
      a.process.child.kill("SIGCONT");
    }
    await waitFor("the four to complete", async () => (await countStates()).completed === 4, 40_000);
    await withDatabase(c.db.url, async (c) => {
      const { rows } = await c.query<{ id: string; result: string; attempts: number }>(
        "SELECT id, result, attempts FROM tasks ORDER BY id",
      );
      expect(rows.map((r) => r.attempts)).toEqual([2, 2, 2, 2]);
      // Each task's end is attempt 2's: the stubborn runs' completions on a, after it woke, were refused.
      for (const id of ids.slice(0, 2)) {
        const row = rows.find((r) => r.id === id)!;
        expect(JSON.parse(row.result)).toMatchObject({ attempt: 2 });
      }
      const ends = await c.query<{ details: string }>(
        "SELECT details FROM task_events WHERE status = 'completed' ORDER BY task_id",
      );
      expect(ends.rows.map((e) => (JSON.parse(e.details) as { attempt: number }).attempt)).toEqual([
        2, 2, 2, 2,
      ]);
    });
    // a's `logged` handlers of attempt 1 were aborted once it woke (their sleeps never finished).
    const logged = ids.slice(2);
    const spanned = lines(c.spans).filter(([task]) => logged.includes(task!));
    expect(spanned.filter(([, , , , attempt]) => attempt === "1")).toEqual([]);
    expect(spanned).toHaveLength(2);
    expect(a.process.child.exitCode).toBeNull();
  }, 90_000);

  it("announces again ready work no one claims: held by a consumer that runs nothing, or lost with a deleted queue; consumers come back after the broker cancels them (issue 25.6)", async () => {
    const again = { TASKEXEC_CLUSTER__REANNOUNCE_AFTER: "2s" };
    const api = await start("api", "api", again);
    const first = await start("worker", "first", again);
    await waitFor("the first worker to be heard", async () => (await live(api)) === 1);
    // The worker dies; work accepted meanwhile waits in taskexec.tasks, which is then deleted.
    first.process.child.kill("SIGKILL");
    await first.process.exited;
    const batch = (prefix: string, n: number) =>
      post(api, "/v1/tasks/batch", {
        messages: Array.from({ length: n }, (_, i) => submitMessage("logged", { ms: 0 }, `${prefix}-${i}`)),
      });
    expect((await batch("lost", 10)).status).toBe(207);
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createChannel();
      channel.on("error", () => {});
      await waitFor(
        "the ten to be in the queue",
        async () => (await channel.checkQueue(QUEUES.tasks)).messageCount === 10,
      );
      await channel.deleteQueue(QUEUES.tasks);
      // A consumer that is no worker takes what it is given and never acks it.
      const rogue = await connection.createChannel();
      rogue.on("error", () => {});
      const worker = await start("worker", "second", again);
      await rogue.prefetch(100);
      await rogue.consume(QUEUES.tasks, () => {});
      await waitFor(
        "the ten lost ones to complete",
        async () => (await countStates()).completed === 10,
        30_000,
      );
      expect((await batch("held", 10)).status).toBe(207);
      await waitFor(
        "the ten held ones to complete",
        async () => (await countStates()).completed === 20,
        30_000,
      );
      // The broker cancels the worker's consumer (its queue is deleted under it): it consumes again.
      await rogue.close();
      await channel.deleteQueue(QUEUES.tasks);
      // (A check of a queue that is not there closes its channel: each on a channel of its own.)
      const consumers = async () => {
        const probe = await connection.createChannel();
        probe.on("error", () => {});
        try {
          return (await probe.checkQueue(QUEUES.tasks)).consumerCount;
        } catch {
          return 0;
        } finally {
          await probe.close().catch(() => {});
        }
      };
      await waitFor("the worker to consume again", async () => (await consumers()) === 1, 15_000);
      expect((await fetch(`${worker.url}/readyz`)).status).toBe(200);
      expect((await batch("after", 5)).status).toBe(207);
      await waitFor("the five to complete", async () => (await countStates()).completed === 25, 30_000);
    } finally {
      await connection.close();
    }
  }, 120_000);

  it("keeps a flood of high-priority work no worker runs from starving the queue: passed on at the back, dropped when it names no ready task (issue 25.7)", async () => {
    const api = await start("api", "api");
    await start("worker", "w1");
    await waitFor("the worker to be heard", async () => (await live(api)) === 1);
    const connection = await amqplib.connect(c.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      // Signed with the cluster's key, as an api of the cluster would (unsigned work is refused
      // before any of this matters: see forged-broker-messages.test.ts).
      const signer = new MessageSigner(await signingKey({ secret: TEST_SECRET }), "api:old", ["executor"]);
      for (let i = 0; i < 1_000; i++) {
        const work = { task_id: `stale-${i}`, priority: 10, type: "nobody_runs_this", requirements: {} };
        const content = Buffer.from(JSON.stringify(work));
        channel.sendToQueue(QUEUES.tasks, content, {
          persistent: true,
          priority: 10,
          headers: { [SIGNATURE_HEADER]: await signer.sign(content, { work: true }) },
        });
      }
      await channel.waitForConfirms();
      const { status } = await post(api, "/v1/tasks/batch", {
        messages: Array.from({ length: 10 }, (_, i) => submitMessage("logged", { ms: 0 }, `genuine-${i}`, 9)),
      });
      expect(status).toBe(207);
      await waitFor(
        "the ten genuine ones to complete",
        async () => (await countStates()).completed === 10,
        30_000,
      );
      await waitFor(
        "the stale ones to be gone",
        async () => (await channel.checkQueue(QUEUES.tasks)).messageCount === 0,
        30_000,
      );
      // Dropped as naming no ready task, not dead-lettered as forged.
      expect((await channel.checkQueue(QUEUES.dead)).messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  }, 90_000);
});
