import { Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { BenchJob, BenchTarget, Hooks } from "../types.js";

// BullMQ 6 under ESM takes ready-made clients; workers and event readers need their own.
const redis = () => new Redis({ host: "127.0.0.1", port: 6379, maxRetriesPerRequest: null });

/** BullMQ on the machine's Redis (which keeps nothing on disk here). */
export class BullmqTarget implements BenchTarget {
  readonly name = "BullMQ";
  readonly backend = "Redis (in memory, no persistence)";
  readonly completionSeenBy = "QueueEvents 'completed' (the submitter's view through Redis)";
  #queue: Queue | undefined;
  #worker: Worker | undefined;
  #events: QueueEvents | undefined;
  #bids = new Map<string, number>();

  async open(hooks: Hooks, options: { concurrency: number }): Promise<void> {
    const name = `bench-${Date.now()}`;
    this.#bids = new Map();
    this.#queue = new Queue(name, { connection: redis() });
    this.#events = new QueueEvents(name, { connection: redis() });
    await this.#events.waitUntilReady();
    this.#events.on("completed", ({ jobId }) => {
      const bid = this.#bids.get(jobId);
      if (bid !== undefined) hooks.completed(bid);
    });
    this.#worker = new Worker(name, (job) => hooks.work(job.data as BenchJob), {
      connection: redis(),
      concurrency: options.concurrency,
    });
    await this.#worker.waitUntilReady();
  }

  #options(job: BenchJob) {
    const jobId = `b${job.bid}`; // BullMQ refuses integer-like custom ids
    this.#bids.set(jobId, job.bid);
    // BullMQ: 1 is the highest priority; ours: 9 is.
    return {
      jobId,
      priority: 10 - job.priority,
      attempts: 3,
      backoff: { type: "fixed", delay: 10 },
      removeOnComplete: true,
    };
  }

  async submitBulk(jobs: readonly BenchJob[]): Promise<void> {
    await this.#queue!.addBulk(jobs.map((job) => ({ name: "bench", data: job, opts: this.#options(job) })));
  }

  async submitOne(job: BenchJob): Promise<void> {
    await this.#queue!.add("bench", job, this.#options(job));
  }

  async close(): Promise<void> {
    await this.#worker?.close(true);
    await this.#events?.close();
    await this.#queue?.obliterate({ force: true }).catch(() => {});
    await this.#queue?.close();
  }
}
