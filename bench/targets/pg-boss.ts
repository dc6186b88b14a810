import PgBoss from "pg-boss";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";
import { dropSchema, PG_URL } from "./postgres.js";

const SCHEMA = "pgboss_bench";

/** pg-boss on the machine's PostgreSQL (workers poll). */
export class PgBossTarget implements BenchTarget {
  readonly name = "pg-boss";
  readonly backend = "PostgreSQL";
  readonly completionSeenBy = "the handler's return (pg-boss offers the submitter no completion event)";
  // It polls (≥ 0.5 s between fetches): ~100 jobs/s at this concurrency, so full sizes would take hours.
  readonly maxJobs = 5000;
  #boss: PgBoss | undefined;

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    await dropSchema(SCHEMA);
    this.#boss = new PgBoss({ connectionString: PG_URL, schema: SCHEMA, max: 10 });
    this.#boss.on("error", () => {});
    await this.#boss.start();
    await this.#boss.createQueue("bench");
    const workers = Math.max(1, Math.ceil(options.concurrency / 10));
    for (let i = 0; i < workers; i++) {
      await this.#boss.work<BenchJob>(
        "bench",
        { batchSize: 10, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          await Promise.all(
            jobs.map(async (job) => {
              await hooks.work(job.data);
              hooks.completed(job.data.bid);
            }),
          );
        },
      );
    }
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#boss!.insert(
      jobs.map((job) => ({ name: "bench", data: job, priority: job.priority, retryLimit: 2, retryDelay: 0 })),
    );
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#boss!.send("bench", job, { priority: job.priority, retryLimit: 2, retryDelay: 0 });
  }

  async close(): Promise<void> {
    await this.#boss?.stop({ graceful: false, wait: true });
  }
}
