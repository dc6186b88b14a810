import { execFileSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { type Service, startService } from "../../src/api/service.js";
import { compileOptions } from "../../src/config/options.js";
import { TaskClient } from "../../src/index.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { signToken } from "../../src/security/token-signer.js";
import { Tracker } from "../tracker.js";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { atRest } from "./at-rest.js";
import { scratchDir } from "./scratch.js";
import { toRequest } from "./taskexec-library.js";
import { BENCH_PREFIX, BENCH_SECRET, freshDatabase, startChild, stopChild } from "./taskexec-postgres.js";

const VHOST = "taskexec_bench";
const BROKER = process.env.BENCH_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const request = (job: BenchJob) => ({ ...toRequest(job), messageId: `${BENCH_PREFIX}${job.bid}` });

/**
 * taskexec in distributed mode: an api (this process: HTTP, admission, the outbox relay) and two
 * workers (the real binary in child processes, with the bench handler), over RabbitMQ (a vhost of
 * its own, made again for each measurement) and PostgreSQL. The harness submits over HTTP and
 * hears starts and completions as the api's dashboard does: from `taskexec.status`. Each worker
 * gets half the concurrency, so the cluster has the peers' total. `via: "amqp"` submits with the
 * AMQP `TaskClient` instead (submit_task messages on `taskexec.submit`, answers from
 * `taskexec.status`).
 */
export class TaskexecDistributedTarget implements BenchTarget {
  readonly name: string;
  readonly backend: string;
  readonly completionSeenBy = "the api, from taskexec.status (after the completion is committed)";
  #service: Service | undefined;
  #children: ChildProcess[] = [];
  #client: TaskClient | undefined;
  #scratch: ReturnType<typeof scratchDir> | undefined;
  readonly #atRest: ReturnType<typeof atRest>;
  databaseUrl: string | undefined;

  readonly #via: "http" | "amqp";

  /** `sealed`: with encryption at rest (security.data_key), in the api and the workers. */
  constructor(sealed = false, via: "http" | "amqp" = "http") {
    this.#atRest = atRest(sealed);
    this.#via = via;
    const over = via === "amqp" ? ", submitted over AMQP" : "";
    this.name = `taskexec distributed (api + 2 workers${over}${this.#atRest.suffix})`;
    this.backend = `PostgreSQL + RabbitMQ; an api (this process) and two worker processes; ${
      via === "amqp" ? "the AMQP TaskClient" : "HTTP on loopback"
    }`;
  }

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    this.#scratch = scratchDir();
    const [url, broker] = await Promise.all([freshDatabase(), Promise.resolve(freshVhost())]);
    this.databaseUrl = url;
    const share = Math.max(1, Math.floor(options.concurrency / 2));
    const config = {
      ...this.#atRest.options,
      data_dir: this.#scratch.dir,
      store: { url },
      message_broker_url: broker,
      http: { port: 0 },
      auth: { jwt_secret: BENCH_SECRET },
      limits: { submit_per_minute: 100_000_000 },
      retry: { base_ms: 10, max_ms: 10 },
      logging: { level: "silent" as const },
    };
    this.#service = await startService(compileOptions(config), "admission");
    this.#hear(hooks);
    const workerEnv = {
      ...this.#atRest.env,
      TASKEXEC_MESSAGE_BROKER_URL: broker,
      TASKEXEC_RESOURCES: '{"cpu":16,"memory_mb":16384,"gpu":0}',
    };
    this.#children = await Promise.all(
      [0, 1].map(() => startChild(url, share, this.#scratch!.dir, "worker", workerEnv)),
    );
    await this.#workersHeard(2);
    const token = await signToken(BENCH_SECRET, { sub: "bench", roles: ["submitter"], ttl: "1d" });
    this.#client =
      this.#via === "amqp"
        ? new TaskClient({ url: broker, token, api: this.#service.url })
        : new TaskClient({ url: this.#service.url, token });
  }

  /** Starts and completions, as the api hears them from the workers. A job's message id names it. */
  #hear(hooks: Hooks): void {
    const started = hooks instanceof Tracker ? hooks.started : undefined;
    const seen = (status: TaskStatus) => {
      const bid = Number(status.header.reference_id.slice(BENCH_PREFIX.length));
      if (status.body.details?.event === "execution_started" && started && !started.has(bid))
        started.set(bid, Date.parse(status.header.timestamp) - performance.timeOrigin);
      if (status.body.status === "completed") hooks.completed(bid);
    };
    this.#service!.executor.engine.observe({
      onStatus: () => {},
      onRejected: () => {},
      onOtherStatus: ({ status }) => seen(status),
    });
  }

  /** Submissions are refused until the api heard of a worker that runs `bench`. */
  async #workersHeard(n: number): Promise<void> {
    const engine = this.#service!.executor.engine;
    for (let i = 0; i < 300; i++) {
      if ((await engine.nodes()).filter((node) => node.alive).length >= n) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the workers never announced themselves");
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#client!.submitMany(jobs.map(request));
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#client!.submit(request(job));
  }

  async close(): Promise<void> {
    await this.#client?.close();
    await Promise.all(this.#children.map(stopChild));
    await this.#service?.close(0);
    this.#scratch?.remove();
  }
}

/** An empty vhost for one measurement (deleted and made again, by rabbitmqctl). */
function freshVhost(): string {
  try {
    execFileSync("rabbitmqctl", ["delete_vhost", VHOST], { stdio: "ignore" });
  } catch {
    // there was none
  }
  execFileSync("rabbitmqctl", ["add_vhost", VHOST], { stdio: "ignore" });
  const url = new URL(BROKER);
  execFileSync(
    "rabbitmqctl",
    ["set_permissions", "-p", VHOST, decodeURIComponent(url.username || "guest"), ".*", ".*", ".*"],
    {
      stdio: "ignore",
    },
  );
  url.pathname = `/${VHOST}`;
  return url.toString();
}
