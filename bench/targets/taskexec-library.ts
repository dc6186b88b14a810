import { join } from "node:path";
import { createExecutor, defineHandler, type Executor, type TaskClientApi } from "../../src/index.js";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { atRest } from "./at-rest.js";
import { scratchDir } from "./scratch.js";
import { freshDatabase } from "./taskexec-postgres.js";

export function benchHandler(hooks: Hooks) {
  return defineHandler<BenchJob>({ type: "bench", run: ({ parameters }) => hooks.work(parameters) });
}

/** Reports each durable completion to the harness (what a submitter's status stream would see). */
export function reportCompletions(engine: Executor["engine"], hooks: Hooks): void {
  engine.observe({
    onStatus: (task, status) => {
      if (status.body.status === "completed") hooks.completed((task.parameters as unknown as BenchJob).bid);
    },
    onRejected: () => {},
  });
}

export const toRequest = (job: BenchJob) => ({
  type: "bench",
  parameters: job as unknown as Record<string, unknown>,
  priority: job.priority,
  ...(job.cpu > 0 && { requirements: { cpu: job.cpu } }),
});

/**
 * taskexec embedded, through the library API (in-process client), state durable in SQLite; or,
 * `onPostgres`, the same one process on a PostgreSQL database of its own (issue 27's "library on
 * PostgreSQL in one process").
 */
export class TaskexecLibraryTarget implements BenchTarget {
  readonly name: string;
  readonly backend: string;
  readonly completionSeenBy = "the in-process status stream (after the completion is on disk)";
  #executor: Executor | undefined;
  #client: TaskClientApi | undefined;
  #scratch: ReturnType<typeof scratchDir> | undefined;
  readonly #atRest: ReturnType<typeof atRest>;
  readonly #onPostgres: boolean;
  databaseUrl: string | undefined;

  /** `sealed`: with encryption at rest (security.data_key). */
  constructor(sealed = false, onPostgres = false) {
    this.#atRest = atRest(sealed);
    this.#onPostgres = onPostgres;
    this.name = `taskexec (library${onPostgres ? ", PostgreSQL" : ""}${this.#atRest.suffix})`;
    this.backend = onPostgres
      ? "PostgreSQL, one process, commit before every announcement"
      : "SQLite file, fsync before every announcement";
  }

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    this.#scratch = scratchDir();
    if (this.#onPostgres) this.databaseUrl = await freshDatabase();
    this.#executor = await createExecutor({
      ...this.#atRest.options,
      store: { url: this.databaseUrl ?? `sqlite:${join(this.#scratch.dir, "bench.db")}` },
      max_concurrent_tasks: options.concurrency,
      resources: { cpu: 16, memory_mb: 16_384, gpu: 0 },
      retry: { base_ms: 10, max_ms: 10 },
      logging: { level: "silent" },
      handlers: [benchHandler(hooks)],
    });
    reportCompletions(this.#executor.engine, hooks);
    await this.#executor.start();
    this.#client = this.#executor.client();
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#client!.submitMany(jobs.map(toRequest));
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#client!.submit(toRequest(job));
  }

  async close(): Promise<void> {
    await this.#executor?.stop({ graceMs: 0 });
    this.#scratch?.remove();
  }
}
