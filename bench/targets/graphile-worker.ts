import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { dropSchema, PG_URL } from "./postgres.js";

const SCHEMA = "graphile_worker_bench";

/**
 * graphile-worker on the machine's PostgreSQL (LISTEN/NOTIFY, no polling delay for new jobs).
 * `batched`: as its docs advise for throughput (worker.graphile.org/docs/performance#batching):
 * a local queue of 500 jobs fetched and locked at once, completions and failures batched with no
 * added delay (`completeJobBatchDelay: 0`, `failJobBatchDelay: 0`). Otherwise its defaults.
 */
export class GraphileWorkerTarget implements BenchTarget {
  readonly name: string;
  readonly backend: string;
  readonly completionSeenBy = "the runner's 'job:success' event (worker side; it offers the submitter none)";
  #runner: Runner | undefined;
  #utils: WorkerUtils | undefined;
  readonly #batched: boolean;
  readonly databaseUrl = PG_URL;

  constructor(batched = false) {
    this.#batched = batched;
    this.name = batched ? "graphile-worker (batched)" : "graphile-worker";
    this.backend = batched
      ? "PostgreSQL; localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0"
      : "PostgreSQL; its defaults";
  }

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    await dropSchema(SCHEMA);
    this.#utils = await makeWorkerUtils({
      connectionString: PG_URL,
      schema: SCHEMA,
      logger: new Logger(() => () => {}),
    });
    await this.#utils.migrate();
    this.#runner = await run({
      connectionString: PG_URL,
      schema: SCHEMA,
      // Its own default: more workers than pool connections only contend on the job-fetch lock
      // (at 50 it managed ~100 jobs/s here).
      concurrency: Math.min(options.concurrency, 10),
      noHandleSignals: true,
      pollInterval: 1000,
      logger: new Logger(() => () => {}),
      taskList: { bench: (payload) => hooks.work(payload as BenchJob) },
      ...(this.#batched && {
        preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
      }),
    });
    this.#runner.events.on("job:success", ({ job }) => hooks.completed((job.payload as BenchJob).bid));
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    // graphile-worker: a smaller number runs first; ours: a bigger one.
    await this.#utils!.addJobs(
      jobs.map((job) => ({ identifier: "bench", payload: job, priority: 9 - job.priority, maxAttempts: 3 })),
    );
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#utils!.addJob("bench", job, { priority: 9 - job.priority, maxAttempts: 3 });
  }

  async close(): Promise<void> {
    await this.#runner?.stop();
    await this.#utils?.release();
  }
}
