// Distributed mode (SPEC §4): `taskexec api` and `taskexec worker` processes, real binaries, over
// the machine's RabbitMQ (a vhost per test) and PostgreSQL (a database per test); SIGKILL for
// crashes. The broker and database restarts are in distributed-restarts.alone.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import amqplib from "amqplib";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/security/token-signer.js";
import { EXCHANGES, QUEUES } from "../../src/transport/amqp/topology.js";
import { brokenLogs, type Member, submitMessage, waitFor, withDatabase } from "../helpers/cluster.js";
import { type DistributedCluster, useDistributedCluster } from "../helpers/distributed-cluster.js";
import { postgresForTests } from "../helpers/postgres.js";
import { rabbitForTests } from "../helpers/rabbitmq.js";
import { TEST_SECRET } from "../helpers/service.js";

const HANDLERS = join(import.meta.dirname, "fixtures", "run-log-handler.mjs");
const available = (await postgresForTests()) && (await rabbitForTests());

/** Reads a log the `logged` handler appends to, one record per line. */
function readLines(file: string): string[][] {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => line.split(" "));
}

describe.runIf(available)("distributed mode: an api and workers over RabbitMQ and PostgreSQL", () => {
  const cluster = useDistributedCluster(["--handlers", HANDLERS]);
  const start = (command: "api" | "worker", name: string, extra: Record<string, string> = {}) =>
    cluster.start(command, name, extra);
  const countStates = () => cluster.countStates();
  const post: DistributedCluster["post"] = (member, path, body) => cluster.post(member, path, body);
  const liveWorkers = (api: Member, n: number) => cluster.liveWorkers(api, n);

  it("1 api + 3 workers run 10,000 tasks of mixed priorities and durations while a worker is SIGKILLed and restarted every few seconds: all complete, logs gapless, reruns only of what the dead held", async () => {
    // Attempts enough that no task runs out of them however often its workers die.
    const slots = { TASKEXEC_MAX_CONCURRENT_TASKS: "30", TASKEXEC_RETRY__MAX_ATTEMPTS: "20" };
    const api = await start("api", "api", { TASKEXEC_LIMITS__SUBMIT_PER_MINUTE: "100000" });
    const workers = await Promise.all(["w0", "w1", "w2"].map((name) => start("worker", name, slots)));
    await liveWorkers(api, 3);
    // A submitter on the broker must hear every task's end, a worker killed before it published
    // one included (the api tells such ends again: DeadWorkerEnds).
    const listener = await amqplib.connect(cluster.vhost.url);
    const ends = new Set<string>();
    const channel = await listener.createChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    await channel.bindQueue(queue, EXCHANGES.status, "#");
    await channel.consume(
      queue,
      (m) => {
        if (m === null) return; // cancelled: the vhost is going
        const s = JSON.parse(m.content.toString()) as {
          header: { task_id: string };
          body: { status: string };
        };
        if (s.body.status === "completed") ends.add(s.header.task_id);
      },
      { noAck: true },
    );
    // From the first submission on, one worker is killed every 1.5 s (SIGKILL: no goodbye) and a
    // new one started in its place.
    const killed: { pid: number; at: number; ranBefore: Set<string> }[] = [];
    let finished = false;
    const killer = (async () => {
      for (let round = 0; !finished; round++) {
        await new Promise((r) => setTimeout(r, 1_500));
        if (finished) return;
        const slot = round % workers.length;
        const victim = workers[slot]!;
        const pid = victim.process.child.pid!;
        victim.process.child.kill("SIGKILL");
        await victim.process.exited;
        const ran = readLines(cluster.runLog).filter(([, , p]) => Number(p) === pid);
        killed.push({ pid, at: Date.now(), ranBefore: new Set(ran.map(([task]) => task!)) });
        workers[slot] = await start("worker", `w${slot}-${round}`, slots);
      }
    })();
    const durations = [0, 0, 5, 20, 50];
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 1000 }, (_, i) =>
        submitMessage("logged", { ms: durations[i % durations.length] }, `m-${batch}-${i}`, (i * 7) % 10),
      );
      const { status, body } = await post(api, "/v1/tasks/batch", { messages });
      expect(status).toBe(207);
      const results = body.results as { status: number }[];
      expect(results.filter((r) => r.status !== 202)).toEqual([]);
    }
    await waitFor(
      "every task to finish",
      async () => {
        const states = await countStates();
        return (states.completed ?? 0) + (states.failed ?? 0) + (states.cancelled ?? 0) === 10_000;
      },
      150_000,
      500,
    ).finally(() => (finished = true));
    await killer;
    expect(killed.length).toBeGreaterThanOrEqual(2);
    expect(await countStates()).toEqual({ completed: 10_000 });
    await withDatabase(cluster.db.url, async (c) => {
      expect(await brokenLogs(c)).toEqual([]);
      // Every handler run is an attempt the log recorded (a start), and a second start of a task
      // came only after its first executor was lost.
      const { rows } = await c.query<{ task_id: string; starts: number; lost: number }>(
        `SELECT task_id,
                count(*) FILTER (WHERE details::jsonb->>'event' = 'execution_started')::int AS starts,
                count(*) FILTER (WHERE details::jsonb->'error'->>'code' = 'executor_lost')::int AS lost
         FROM task_events GROUP BY task_id`,
      );
      const runs = new Map<string, number>();
      for (const [task] of readLines(cluster.runLog)) runs.set(task!, (runs.get(task!) ?? 0) + 1);
      expect(runs.size).toBe(10_000);
      const mismatched = rows.filter((r) => (runs.get(r.task_id) ?? 0) > r.starts);
      expect(mismatched).toEqual([]);
      const rerunWithoutLoss = rows.filter((r) => r.starts > 1 && r.lost < r.starts - 1);
      expect(rerunWithoutLoss).toEqual([]);
      // Only tasks a killed worker had started ran again.
      const heldByDead = new Set(killed.flatMap((k) => [...k.ranBefore]));
      const twice = [...runs].filter(([, n]) => n > 1).map(([task]) => task);
      expect(twice.filter((task) => !heldByDead.has(task))).toEqual([]);
    });
    await waitFor(
      "every end to be heard on taskexec.status",
      () => Promise.resolve(ends.size === 10_000),
      15_000,
    ).catch(async (error: unknown) => {
      // Which ends were not heard (when, and on which node), when workers were killed, and what the
      // api said it told again: enough to tell a lost end from a slow one.
      const unheard = await withDatabase(cluster.db.url, async (c) =>
        (
          await c.query<{ id: string; at: number; details: string }>(
            "SELECT t.id, e.at, e.details FROM tasks t JOIN task_events e ON e.task_id = t.id AND e.sequence = t.last_sequence",
          )
        ).rows
          .filter((r) => !ends.has(r.id))
          .map((r) => [r.at, (JSON.parse(r.details) as { node?: string }).node]),
      );
      const { stdout, stderr } = api.process.output();
      const told = (stdout + stderr).split("\n").filter((l) => l.includes("told again"));
      throw new Error(
        `${String(error)}: unheard ${JSON.stringify(unheard).slice(0, 1_000)}; killed ${JSON.stringify(killed.map((k) => [k.pid, k.at]))}; api: ${told.join("\n").slice(-4_000)}`,
      );
    });
    await listener.close();
  }, 240_000);

  it("place tasks by resources: a cpu: 1 worker never runs two cpu: 1 tasks at once, gpu tasks run only where the GPU is, and what no worker can fit is refused", async () => {
    const api = await start("api", "api");
    const plain = await start("worker", "plain", { TASKEXEC_RESOURCES: '{"cpu":1}' });
    const gpu = await start("worker", "gpu", { TASKEXEC_RESOURCES: '{"cpu":1,"gpu":1}' });
    await liveWorkers(api, 2);
    const message = (id: string, requirements: Record<string, number>, ms = 60) => ({
      ...submitMessage("logged", { ms }, id),
      body: { priority: 5, task_specification: { type: "logged", parameters: { ms }, requirements } },
    });
    const cpuTasks = Array.from({ length: 16 }, (_, i) => message(`cpu-${i}`, { cpu: 1 }));
    const gpuTasks = Array.from({ length: 6 }, (_, i) => message(`gpu-${i}`, { gpu: 1 }));
    expect((await post(api, "/v1/tasks/batch", { messages: [...cpuTasks, ...gpuTasks] })).status).toBe(207);
    const tooBig = await post(api, "/v1/tasks", message("too-big", { gpu: 2 }));
    expect(tooBig.status).toBe(422);
    expect(JSON.stringify(tooBig.body)).toContain("resource_unsatisfiable");
    const unknown = await post(api, "/v1/tasks", submitMessage("no_such_type", {}, "unknown"));
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toContain("handler_not_found");
    await waitFor("every task to complete", async () => (await countStates()).completed === 22, 60_000);
    expect(await countStates()).toEqual({ completed: 22 });

    const taskIds = await withDatabase(cluster.db.url, async (c) => {
      const { rows } = await c.query<{ id: string; message_id: string }>("SELECT id, message_id FROM tasks");
      return new Map(rows.map((r) => [r.id, r.message_id]));
    });
    const runs = readLines(cluster.spans).map(([task, pid, from, to]) => ({
      message: taskIds.get(task!)!,
      pid: Number(pid),
      from: Number(from),
      to: Number(to),
    }));
    expect(runs).toHaveLength(22);
    const gpuPid = gpu.process.child.pid!;
    expect(runs.filter((r) => r.message.startsWith("gpu-")).map((r) => r.pid)).toEqual(Array(6).fill(gpuPid));
    // On each worker, no two tasks asking for its one CPU overlapped.
    for (const pid of [plain.process.child.pid!, gpuPid]) {
      const mine = runs
        .filter((r) => r.pid === pid && r.message.startsWith("cpu-"))
        .sort((a, b) => a.from - b.from);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.from).toBeGreaterThanOrEqual(mine[i - 1]!.to);
    }
    expect(new Set(runs.filter((r) => r.message.startsWith("cpu-")).map((r) => r.pid)).size).toBe(2);
  }, 90_000);

  it("hand a task back when its worker cannot fit it within allocation_timeout_ms, so that another worker runs it", async () => {
    const retry = {
      TASKEXEC_RETRY__BASE_MS: "100",
      TASKEXEC_RETRY__MAX_MS: "200",
      TASKEXEC_RETRY__MAX_ATTEMPTS: "10",
    };
    const api = await start("api", "api", retry);
    const worker = { TASKEXEC_RESOURCES: '{"cpu":1}', TASKEXEC_ALLOCATION_TIMEOUT_MS: "1000", ...retry };
    const busy = await start("worker", "busy", worker);
    await liveWorkers(api, 1);
    const message = (id: string, ms: number) => ({
      ...submitMessage("logged", { ms }, id),
      body: {
        priority: 5,
        task_specification: { type: "logged", parameters: { ms }, requirements: { cpu: 1 } },
      },
    });
    // The only worker's one CPU is taken for 30 s; the next task it is handed waits for it.
    expect((await post(api, "/v1/tasks", message("long", 20_000))).status).toBe(202);
    await waitFor("the long task to run", async () => (await countStates()).executing === 1);
    const short = await post(api, "/v1/tasks", message("short", 0));
    const shortId = (short.body.header as { task_id: string }).task_id;
    await waitFor("the short task to wait for the CPU", async () => (await countStates()).waiting === 1);
    const free = await start("worker", "free", worker);
    await waitFor("the short task to complete", async () => (await countStates()).completed === 1, 30_000);
    expect(await countStates()).toEqual({ completed: 1, executing: 1 }); // long still holds its CPU

    const runs = readLines(cluster.runLog).filter(([task]) => task === shortId);
    expect(runs.map(([, , pid]) => Number(pid))).toEqual([free.process.child.pid]);
    const events = await withDatabase(cluster.db.url, async (c) => {
      const { rows } = await c.query<{ details: string | null }>(
        "SELECT details FROM task_events WHERE task_id = $1 ORDER BY sequence",
        [shortId],
      );
      return rows.map((r) => (r.details === null ? {} : (JSON.parse(r.details) as Record<string, unknown>)));
    });
    const waited = events.find((d) => d.event === "resources_waiting")!;
    const handedBack = events.find((d) => d.event === "retry_scheduled")!;
    const started = events.find((d) => d.event === "execution_started")!;
    expect((handedBack.error as { code: string }).code).toBe("resource_unavailable");
    expect(started.node).not.toBe(waited.node);
    expect(busy.process.child.exitCode).toBeNull();
  }, 90_000);

  it("keep taking broker submissions through a flood of 10,000 poison messages, each dead-lettered, none creating a task", async () => {
    const api = await start("api", "api");
    await start("worker", "w");
    await liveWorkers(api, 1);
    const connection = await amqplib.connect(cluster.vhost.url);
    try {
      const channel = await connection.createConfirmChannel();
      const forged = await signToken("x".repeat(40), { sub: "mallory", roles: ["admin"], ttl: "1h" });
      // An hour past its exp, far beyond the clock tolerance.
      const expired = await new SignJWT({ roles: ["submitter"] })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject("alice")
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(TEST_SECRET));
      const good = await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" });
      const withAuth = (auth: string | undefined, id: string) => {
        const message = submitMessage("logged", { ms: 0 }, id);
        return JSON.stringify({ ...message, header: { ...message.header, auth } });
      };
      const poison = (i: number) =>
        [
          () => "not json {",
          () => withAuth(undefined, `p-${i}`),
          () => withAuth(forged, `p-${i}`),
          () => withAuth(expired, `p-${i}`),
          () => JSON.stringify({ type: "submit_task", header: { auth: good }, body: 42 }),
        ][i % 5]!();
      for (let i = 0; i < 10_000; i++) {
        channel.publish(EXCHANGES.submit, "submit_task", Buffer.from(poison(i)), { persistent: true });
        if (i % 1000 === 999) await channel.waitForConfirms();
        if (i === 5_000)
          channel.publish(EXCHANGES.submit, "submit_task", Buffer.from(withAuth(good, "in-the-middle")), {
            persistent: true,
          });
      }
      channel.publish(EXCHANGES.submit, "submit_task", Buffer.from(withAuth(good, "after-the-flood")), {
        persistent: true,
      });
      await channel.waitForConfirms();
      await waitFor(
        "the two good submissions to complete",
        async () => (await countStates()).completed === 2,
        120_000,
        250,
      );
      await waitFor(
        "every poison message to be dead-lettered",
        async () => (await channel.checkQueue(QUEUES.dead)).messageCount === 10_000,
        120_000,
        250,
      );
      expect(await countStates()).toEqual({ completed: 2 });
      expect((await channel.checkQueue(QUEUES.submissions)).messageCount).toBe(0);
    } finally {
      await connection.close();
    }
  }, 240_000);
});
