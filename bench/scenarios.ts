import { cpuProbe, type RowVersions, rowVersionProbe } from "./cost-probe.js";
import { round, Tracker } from "./tracker.js";
import type { BenchJob, BenchTarget, LatencySummary } from "./types.js";

const CONCURRENCY = 50;
/**
 * Jobs run before a measurement (no more than the measurement's own), half submitted in bulk and
 * half one by one (see withTarget). Enough for a heap in its working state: after 200 in bulk,
 * taskexec's p99 at 2,000/s read mostly 3.9–4.7 ms, a fresh heap's figure; after 2,000, mostly
 * 6.2–8.0 ms (V8 had started pretenuring; see src/engine/allocation-site-pretenuring.ts), and
 * BullMQ's one-by-one path was still being compiled during the measurement.
 */
const WARMUP = 2_000;
const TIMEOUT_MS = 300_000;

const noop = (bid: number): BenchJob => ({ bid, priority: 5, sleepMs: 0, failOnce: false, cpu: 0 });

/** What every measurement reports beside its own figures (cost-probe.ts). */
export interface MeasuredCost {
  /** CPU µs per job of every process of the system together, over the measured jobs. */
  all_cpu_us_per_job: number;
  /** The same by program (`postgres`, `node`, `beam.smp`, `redis-server`). */
  cpu_us_per_job_by_program: Record<string, number>;
  /** Per table of its PostgreSQL database, when it has one: over every job of the run. */
  row_versions_per_job?: RowVersions;
}

async function withTarget<T>(
  target: BenchTarget,
  jobs: number,
  body: (tracker: Tracker) => Promise<T>,
): Promise<T & MeasuredCost> {
  const tracker = new Tracker();
  await target.open(tracker, { concurrency: CONCURRENCY });
  // Row versions over every job of the run, the warm-up's too (the same no-ops), read once the
  // target has closed its connections (see cost-probe.ts).
  const rows = target.databaseUrl === undefined ? undefined : await rowVersionProbe(target.databaseUrl);
  let jobsRun: number;
  let result: T & MeasuredCost;
  try {
    // Warm up connections and JIT with jobs the measurement does not count. Each measurement runs
    // in a fresh process (bench/measure-one.ts), so both submission paths must be compiled before
    // the clock starts, or the first seconds of an open-loop run measure the JIT, not the system.
    const warmup = Math.min(WARMUP, jobs);
    const warm = Array.from({ length: warmup }, (_, i) => noop(1_000_000_000 + i));
    const half = warmup >> 1;
    await inBulk(target, warm.slice(0, half), 500);
    await oneByOne(target, warm.slice(half), 16);
    await tracker.waitFor(warmup, TIMEOUT_MS);
    tracker.reset();
    const cpu = cpuProbe();
    const measured = await body(tracker);
    const measuredJobs = Math.max(1, tracker.done.size);
    const used = cpu.stop(measuredJobs);
    result = { ...measured, all_cpu_us_per_job: used.total, cpu_us_per_job_by_program: used.byProgram };
    jobsRun = warmup + measuredJobs;
  } finally {
    await target.close();
  }
  if (rows !== undefined) result.row_versions_per_job = await rows.stop(jobsRun);
  return result;
}

/** Submits `jobs` in batches of `size`, one batch at a time. */
async function inBulk(target: BenchTarget, jobs: readonly BenchJob[], size: number): Promise<void> {
  for (let i = 0; i < jobs.length; i += size) await target.submitBulk(jobs.slice(i, i + size));
}

/** Submits `jobs` one by one, `lanes` submissions in flight. */
async function oneByOne(target: BenchTarget, jobs: readonly BenchJob[], lanes: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) await target.submitOne(jobs[next++]!);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

export interface ThroughputResult extends MeasuredCost {
  jobs_per_s: number;
  submits_per_s: number;
}

/** N no-op jobs, first submit to last completion; submitted in batches of 1,000, or one by one (64 in flight). */
export function throughput(
  target: BenchTarget,
  size: number,
  mode: "bulk" | "single",
): Promise<ThroughputResult> {
  const n = Math.min(size, target.maxJobs ?? size);
  return withTarget(target, n, async (tracker) => {
    const jobs = Array.from({ length: n }, (_, i) => noop(i));
    const t0 = performance.now();
    if (mode === "bulk") await inBulk(target, jobs, 1000);
    else await oneByOne(target, jobs, 64);
    const submitted = performance.now();
    await tracker.waitFor(n, TIMEOUT_MS);
    const end = performance.now();
    return {
      jobs_per_s: round(n / ((end - t0) / 1000), 0),
      submits_per_s: round(n / ((submitted - t0) / 1000), 0),
    };
  });
}

export interface LatencyResult {
  offered_per_s: number;
  to_start_ms: LatencySummary;
  to_completed_ms: LatencySummary;
}

/**
 * Open loop at a fixed offered rate: job i is due at t0 + i/rate whether or not the system keeps
 * up, and latency counts from when it was due (no coordinated omission).
 */
export function latency(target: BenchTarget, rate: number, seconds: number): Promise<LatencyResult> {
  const n = Math.min(Math.round(rate * seconds), target.maxJobs ?? Number.POSITIVE_INFINITY);
  return withTarget(target, n, async (tracker) => {
    const t0 = performance.now() + 10;
    let i = 0;
    const failures: unknown[] = [];
    // Counted, not kept: holding a promise per submission would put the harness's own garbage
    // collection into the tail it measures.
    let pending = 0;
    let allSettled: (() => void) | undefined;
    const settled = () => {
      pending -= 1;
      if (pending === 0) allSettled?.();
    };
    while (i < n) {
      const now = performance.now();
      while (i < n && t0 + (i * 1000) / rate <= now) {
        const job = noop(i);
        tracker.submitted.set(job.bid, t0 + (i * 1000) / rate);
        pending += 1;
        target.submitOne(job).then(settled, (error: unknown) => {
          failures.push(error);
          settled();
        });
        i += 1;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    // A refused submission is the submitter's failure, not a lost job: report it as such.
    if (pending > 0) await new Promise<void>((resolve) => (allSettled = resolve));
    if (failures.length > 0)
      throw new Error(`${failures.length} of ${n} submissions failed, e.g. ${String(failures[0])}`);
    await tracker.waitFor(n, TIMEOUT_MS);
    return {
      offered_per_s: rate,
      to_start_ms: tracker.latency(tracker.started),
      to_completed_ms: tracker.latency(tracker.done),
    };
  });
}

export interface MixResult {
  jobs_per_s: number;
  seconds: number;
}

/** A realistic mix: priorities 0–9, 10 % asking for one CPU, handlers sleeping 1–20 ms, 1 % failing once. */
export function mix(target: BenchTarget, size: number): Promise<MixResult> {
  const n = Math.min(size, target.maxJobs ?? size);
  return withTarget(target, n, async (tracker) => {
    const jobs: BenchJob[] = Array.from({ length: n }, (_, i) => ({
      bid: i,
      priority: i % 10,
      sleepMs: 1 + ((i * 7) % 20),
      failOnce: i % 100 === 42,
      cpu: i % 10 === 3 ? 1 : 0,
    }));
    const t0 = performance.now();
    await inBulk(target, jobs, 1000);
    await tracker.waitFor(n, TIMEOUT_MS);
    const seconds = (performance.now() - t0) / 1000;
    return { jobs_per_s: round(n / seconds, 0), seconds: round(seconds, 2) };
  });
}
