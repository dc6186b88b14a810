import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { type Service, startService } from "../../src/api/service.js";
import { compileOptions } from "../../src/config/options.js";
import { TaskClient } from "../../src/index.js";
import { signToken } from "../../src/security/token-signer.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { Tracker } from "../tracker.js";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { PG_URL } from "./postgres.js";
import { atRest } from "./at-rest.js";
import { scratchDir } from "./scratch.js";
import { benchHandler, toRequest } from "./taskexec-library.js";

const SECRET = "bench-secret-bench-secret-bench-secret-0";
const PREFIX = "bench-";
const request = (job: BenchJob) => ({ ...toRequest(job), messageId: `${PREFIX}${job.bid}` });
const DATABASE = "taskexec_bench";
const ROOT = join(import.meta.dirname, "..", "..");

/**
 * taskexec in the shared-database mode: two `serve` processes on one PostgreSQL database. This
 * process runs one (API + executor, the harness's handler) and submits to it over HTTP; the
 * other is the real binary in a child process, with the same work in a handler module. The
 * harness hears the child's starts and completions as any process of the cluster does, through
 * the database. Each process gets half the concurrency, so the cluster has the peers' total.
 */
export const BENCH_SECRET = SECRET;
export const BENCH_PREFIX = PREFIX;

export class TaskexecPostgresTarget implements BenchTarget {
  readonly name: string;
  readonly backend = "PostgreSQL, two serve processes (this one and a child); HTTP on loopback";
  readonly completionSeenBy =
    "the status stream of the process submitted to (after the completion is committed)";
  #service: Service | undefined;
  #child: ChildProcess | undefined;
  #client: TaskClient | undefined;
  #scratch: ReturnType<typeof scratchDir> | undefined;
  readonly #atRest: ReturnType<typeof atRest>;
  databaseUrl: string | undefined;

  /** `sealed`: with encryption at rest (security.data_key), in both processes. */
  constructor(sealed = false) {
    this.#atRest = atRest(sealed);
    this.name = `taskexec (PostgreSQL, 2 processes${this.#atRest.suffix})`;
  }

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    this.#scratch = scratchDir();
    const url = await freshDatabase();
    this.databaseUrl = url;
    const share = Math.max(1, Math.floor(options.concurrency / 2));
    this.#service = await startService(
      compileOptions({
        ...this.#atRest.options,
        data_dir: this.#scratch.dir,
        store: { url },
        http: { port: 0 },
        auth: { jwt_secret: SECRET },
        limits: { submit_per_minute: 100_000_000 },
        max_concurrent_tasks: share,
        resources: { cpu: 16, memory_mb: 16_384, gpu: 0 },
        retry: { base_ms: 10, max_ms: 10 },
        logging: { level: "silent" },
        handlers: [benchHandler(hooks)],
      }),
    );
    this.#hear(hooks);
    this.#child = await startChild(url, share, this.#scratch.dir, "serve", this.#atRest.env);
    this.#client = new TaskClient({
      url: this.#service.url,
      token: await signToken(SECRET, { sub: "bench", roles: ["submitter"], ttl: "1d" }),
    });
  }

  /**
   * Completions (both processes') and the child's starts, as the statuses tell them. A job's
   * message id names it (a completion can be heard before its submission is answered).
   */
  #hear(hooks: Hooks): void {
    const started = hooks instanceof Tracker ? hooks.started : undefined;
    const seen = (status: TaskStatus, remote: boolean) => {
      const bid = Number(status.header.reference_id.slice(PREFIX.length));
      if (remote && status.body.details?.event === "execution_started" && started && !started.has(bid))
        started.set(bid, Date.parse(status.header.timestamp) - performance.timeOrigin);
      if (status.body.status === "completed") hooks.completed(bid);
    };
    this.#service!.executor.engine.observe({
      onStatus: (_task, status) => seen(status, false),
      onRejected: () => {},
      onOtherStatus: ({ status }) => seen(status, true),
    });
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#client!.submitMany(jobs.map(request));
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#client!.submit(request(job));
  }

  async close(): Promise<void> {
    if (this.#child !== undefined) await stopChild(this.#child);
    await this.#service?.close(0);
    this.#scratch?.remove();
  }
}

/** An empty database for one measurement (dropped and made again). */
export async function freshDatabase(): Promise<string> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

/**
 * `BENCH_PROFILE_CHILDREN=<dir>`: the child processes write CPU profiles (node --cpu-prof) there,
 * and are stopped with SIGTERM, so that they do (profile this process with node --cpu-prof).
 */
const PROFILE_DIR = process.env.BENCH_PROFILE_CHILDREN;

/** Stops a child of the cluster: killed, or, when profiling, stopped and waited for. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (PROFILE_DIR === undefined) {
    child.kill("SIGKILL");
    return;
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/**
 * A second process of the cluster: the built binary (`serve`, or a distributed `worker`) with the
 * bench handler, resolved once it serves.
 */
export function startChild(
  url: string,
  concurrency: number,
  dir: string,
  command: "serve" | "worker" = "serve",
  extra: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(PROFILE_DIR === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`]),
      join(ROOT, "dist", "src", "cli", "main.js"),
      command,
      "--handlers",
      join(ROOT, "bench", "targets", "postgres-bench-handler.mjs"),
    ],
    {
      env: {
        ...process.env,
        ...extra,
        TASKEXEC_DATA_DIR: join(dir, `child-${Math.random().toString(36).slice(2)}`),
        TASKEXEC_STORE__URL: url,
        TASKEXEC_HTTP__PORT: "0",
        TASKEXEC_WORKER__PORT: "0", // a worker's health port is its own key
        TASKEXEC_AUTH__JWT_SECRET: SECRET,
        TASKEXEC_MAX_CONCURRENT_TASKS: String(concurrency),
        TASKEXEC_LOGGING__LEVEL: "warn",
        TASKEXEC_RETRY__BASE_MS: "10",
        TASKEXEC_RETRY__MAX_MS: "10",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("is serving at") || out.includes("is taking work")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`the second ${command} exited (${code}): ${out}`)));
  });
}
