import type { EngineObserver } from "../engine/engine-observer.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { ObservedStatus, TaskRecord } from "../domain/records.js";

/** How far back the dashboard's charts reach. */
export const ACTIVITY_WINDOW_S = 15 * 60;
/** Duration samples kept per second and series; more are sampled down (reservoir), so the cost is fixed. */
const SAMPLES_PER_SECOND = 64;
/** Submitters followed apart (for scoped charts); the least recently active is dropped beyond this. */
const MAX_SUBMITTERS = 1_000;

/** One second of activity. */
class Second {
  submitted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  readonly wait = new Reservoir();
  readonly execution = new Reservoir();
  constructor(readonly at: number) {}
}

/** Keeps at most {@link SAMPLES_PER_SECOND} values, each seen value with equal chance. */
class Reservoir {
  readonly values: number[] = [];
  #seen = 0;
  add(value: number): void {
    this.#seen += 1;
    if (this.values.length < SAMPLES_PER_SECOND) this.values.push(value);
    else {
      const slot = Math.floor(Math.random() * this.#seen);
      if (slot < SAMPLES_PER_SECOND) this.values[slot] = value;
    }
  }
}

/** A ring of the last {@link ACTIVITY_WINDOW_S} seconds. */
class SecondsRing {
  readonly #slots: (Second | undefined)[] = new Array<Second | undefined>(ACTIVITY_WINDOW_S);

  at(second: number): Second {
    const index = second % ACTIVITY_WINDOW_S;
    let slot = this.#slots[index];
    if (slot?.at !== second) this.#slots[index] = slot = new Second(second);
    return slot;
  }

  /** The recorded seconds in [from, to]. */
  *range(from: number, to: number): Generator<Second> {
    for (let s = Math.max(from, to - ACTIVITY_WINDOW_S + 1); s <= to; s++) {
      const slot = this.#slots[s % ACTIVITY_WINDOW_S];
      if (slot?.at === s) yield slot;
    }
  }
}

/** One point of a chart: rates per second and percentiles in milliseconds over `step` seconds. */
export interface ActivityPoint {
  /** Start of the step, epoch seconds. */
  t: number;
  submitted_per_s: number;
  completed_per_s: number;
  failed_per_s: number;
  cancelled_per_s: number;
  /** Failed over finished (completed + failed) in the step; null when none finished. */
  error_rate: number | null;
  wait_ms: Percentiles | null;
  execution_ms: Percentiles | null;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * What happened in the last 15 minutes, second by second, for the dashboard's charts: accepted,
 * completed, failed and cancelled tasks, and samples of wait (submit → first start) and execution
 * time. Kept for everyone and per submitter, so that a submitter's charts show only its tasks.
 * In memory: the charts start empty after a restart, as a terminal's would.
 */
export class RecentActivity implements EngineObserver {
  readonly #all = new SecondsRing();
  readonly #bySubmitter = new Map<string, SecondsRing>();

  constructor(private readonly now: () => number = Date.now) {}

  onStatus(task: TaskRecord, status: TaskStatus): void {
    this.#count(status, task);
  }

  /** The charts are the cluster's: what the processes sharing this one's store did counts too. */
  onOtherStatus(observed: ObservedStatus): void {
    this.#count(observed.status, observed);
  }

  #count(status: TaskStatus, task: { submitter: string; createdAt: number; startedAt: number | null }): void {
    const details = status.body.details;
    const event = details?.event;
    const state = status.body.status;
    const at = Date.parse(status.header.timestamp);
    const second = Math.floor(this.now() / 1000);
    const rings = [this.#all, this.#ring(task.submitter)];
    for (const ring of rings) {
      const slot = ring.at(second);
      if (event === "task_accepted") slot.submitted += 1;
      else if (event === "execution_started" && details?.attempt === 1) {
        slot.wait.add(at - task.createdAt);
      } else if (isTerminal(state)) {
        if (state === "completed") slot.completed += 1;
        else if (state === "failed") slot.failed += 1;
        else slot.cancelled += 1;
        if (task.startedAt !== null) slot.execution.add(at - task.startedAt);
      }
    }
  }

  onRejected(_code: ErrorCode): void {}

  /** The last 15 minutes in steps of `stepS` seconds, oldest first; one submitter's, or everyone's. */
  series(stepS: number, submitter?: string): ActivityPoint[] {
    const ring = submitter === undefined ? this.#all : this.#bySubmitter.get(submitter);
    const now = Math.floor(this.now() / 1000);
    const oldest = now - ACTIVITY_WINDOW_S + 1;
    // Steps start at multiples of the step, so that points stay put from one call to the next.
    const first = Math.floor(oldest / stepS) * stepS;
    const points: ActivityPoint[] = [];
    for (let t = first; t <= now; t += stepS) {
      // The first and the last step may be partial: rates are over the seconds they cover.
      points.push(pointOver(ring, t, Math.max(t, oldest), Math.min(t + stepS - 1, now)));
    }
    return points;
  }

  /**
   * The whole window as one point, for headline figures: a rate, error rate or percentile of the
   * last 15 minutes, not of the last step.
   */
  window(submitter?: string): ActivityPoint {
    const ring = submitter === undefined ? this.#all : this.#bySubmitter.get(submitter);
    const now = Math.floor(this.now() / 1000);
    const oldest = now - ACTIVITY_WINDOW_S + 1;
    return pointOver(ring, oldest, oldest, now);
  }

  #ring(submitter: string): SecondsRing {
    let ring = this.#bySubmitter.get(submitter);
    if (ring !== undefined) {
      this.#bySubmitter.delete(submitter); // re-inserted last: the map's order is recency
    } else {
      ring = new SecondsRing();
      if (this.#bySubmitter.size >= MAX_SUBMITTERS) {
        this.#bySubmitter.delete(this.#bySubmitter.keys().next().value!);
      }
    }
    this.#bySubmitter.set(submitter, ring);
    return ring;
  }
}

/** Rates and percentiles over the seconds [start, end] of a ring, as the point at `t`. */
function pointOver(ring: SecondsRing | undefined, t: number, start: number, end: number): ActivityPoint {
  const seconds = ring === undefined ? [] : [...ring.range(start, end)];
  const span = end - start + 1;
  const sum = (pick: (s: Second) => number) => seconds.reduce((n, s) => n + pick(s), 0);
  const completed = sum((s) => s.completed);
  const failed = sum((s) => s.failed);
  return {
    t,
    submitted_per_s: sum((s) => s.submitted) / span,
    completed_per_s: completed / span,
    failed_per_s: failed / span,
    cancelled_per_s: sum((s) => s.cancelled) / span,
    error_rate: completed + failed === 0 ? null : failed / (completed + failed),
    wait_ms: percentiles(seconds.flatMap((s) => s.wait.values)),
    execution_ms: percentiles(seconds.flatMap((s) => s.execution.values)),
  };
}

function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}
