import { TimeTable } from "./time-table.js";
import type { BenchJob, Hooks, LatencySummary } from "./types.js";

/** Records, per job, when it was (meant to be) submitted, when its handler started, when it completed. */
export class Tracker implements Hooks {
  readonly submitted = new TimeTable();
  readonly started = new TimeTable();
  readonly done = new TimeTable();
  readonly #failedOnce = new Set<number>();
  #waiting: { count: number; resolve: () => void } | undefined;

  /** Forgets what was measured so far (after a warm-up). */
  reset(): void {
    this.submitted.clear();
    this.started.clear();
    this.done.clear();
  }

  async work(job: BenchJob): Promise<void> {
    if (!this.started.has(job.bid)) this.started.set(job.bid, performance.now());
    if (job.failOnce && !this.#failedOnce.has(job.bid)) {
      this.#failedOnce.add(job.bid);
      throw new Error("bench: failing once, as asked");
    }
    if (job.sleepMs > 0) await new Promise((r) => setTimeout(r, job.sleepMs));
  }

  completed(bid: number): void {
    if (this.done.has(bid)) return;
    this.done.set(bid, performance.now());
    if (this.#waiting && this.done.size >= this.#waiting.count) this.#waiting.resolve();
  }

  /** Resolves when `count` jobs have completed, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.done.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.done.size} of ${count} jobs completed in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiting = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }

  latency(to: TimeTable): LatencySummary {
    const values: number[] = [];
    for (const [bid, at] of to.entries()) {
      const from = this.submitted.get(bid);
      if (from !== undefined) values.push(at - from);
    }
    values.sort((a, b) => a - b);
    const pick = (q: number) =>
      round(values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN);
    return { p50: pick(0.5), p95: pick(0.95), p99: pick(0.99) };
  }
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
