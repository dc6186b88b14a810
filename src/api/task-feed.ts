import type { EngineObserver } from "../engine/engine-observer.js";
import { type TaskSummary, toSummary } from "../engine/task-snapshot.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import type { TaskRecord } from "../domain/records.js";
import { sseFrame } from "./sse.js";

/**
 * What a feed subscriber receives: changed rows, or word that too much changed to list. `frame`
 * is the batch as a Server-Sent Event, encoded once for every subscriber that sees the same rows.
 */
export type FeedBatch =
  { kind: "tasks"; tasks: TaskSummary[]; frame: Buffer } | { kind: "resync"; frame: Buffer };

/** Rows held per group of subscribers between flushes; past this they are told to reload instead. */
const MAX_PENDING = 1_000;

const RESYNC: FeedBatch = { kind: "resync", frame: sseFrame("resync", "{}") };

/** The subscribers that see the same tasks (one submitter's, or all) share what is pending. */
interface Group {
  submitter: string | undefined;
  subscribers: Set<(batch: FeedBatch) => void>;
  /** The newest record of each task changed since the last flush. */
  pending: Map<string, TaskRecord>;
  overflowed: boolean;
  /** Another process changed tasks (a shared store): its rows are not here, the page reloads. */
  othersChanged: boolean;
}

/** Reloads for other processes' changes come at most this often (each one is a list query). */
const OTHERS_EVERY_MS = 1_000;

/**
 * Streams written per turn of the event loop. Writing a batch is a copy into each stream's socket:
 * a 55 KB batch to a thousand admin dashboards held the server for a quarter of a second in one
 * turn (its /healthz and submissions waited behind it); in slices, they go in between.
 */
export const STREAMS_PER_TURN = 50;

/**
 * The share of the server's time the feed may take: after a flush that took d ms from first write
 * to last, the next waits at least d × (1 / share − 1). A thousand dashboards then get their
 * batches less often (each still the newest row of every changed task), and the server goes on
 * serving at its pace.
 */
export const MAX_SHARE = 0.25;

/**
 * The live task table behind the dashboard (`GET /v1/stream`): every durable change, coalesced per
 * task over `intervalMs`, so a browser gets at most a few batches a second however busy the engine
 * is, and each changed task once per batch with its latest state. A group that falls more than
 * {@link MAX_PENDING} tasks behind gets `resync` and reloads its page; so does one that other
 * processes on a shared store changed tasks for (at most once a second). A batch is built and
 * serialized once per group, however many streams watch it (a thousand admin dashboards cost one),
 * written to them a slice per turn, and paced so that writing it never takes more than
 * {@link MAX_SHARE} of the server's time.
 */
export class TaskFeed implements EngineObserver {
  /** By submitter; the key `undefined` is every task's group. */
  readonly #groups = new Map<string | undefined, Group>();
  #timer: NodeJS.Timeout | undefined;
  #lastOthersResync = 0;
  /** A flush is being written, a slice per turn. */
  #delivering = false;
  /** No flush before this (performance.now()): the rest after the last, see {@link MAX_SHARE}. */
  #restUntil = 0;

  constructor(private readonly intervalMs = 250) {}

  subscribe(submitter: string | undefined, deliver: (batch: FeedBatch) => void): () => void {
    let group = this.#groups.get(submitter);
    if (group === undefined) {
      group = {
        submitter,
        subscribers: new Set(),
        pending: new Map(),
        overflowed: false,
        othersChanged: false,
      };
      this.#groups.set(submitter, group);
    }
    const joined = group;
    joined.subscribers.add(deliver);
    return () => {
      joined.subscribers.delete(deliver);
      if (joined.subscribers.size === 0 && this.#groups.get(submitter) === joined)
        this.#groups.delete(submitter);
    };
  }

  onStatus(task: TaskRecord): void {
    if (this.#groups.size === 0) return;
    this.#add(this.#groups.get(undefined), task);
    this.#add(this.#groups.get(task.submitter), task);
  }

  onRejected(_code: ErrorCode): void {}

  /** Statuses of other processes come without their task's row: the pages reload instead. */
  onOtherStatus(): void {
    if (this.#groups.size === 0) return;
    for (const group of this.#groups.values()) group.othersChanged = true;
    this.#wake();
  }

  #add(group: Group | undefined, task: TaskRecord): void {
    if (group === undefined || group.overflowed) return;
    group.pending.set(task.id, task);
    if (group.pending.size > MAX_PENDING) {
      group.overflowed = true;
      group.pending.clear();
    }
    this.#wake();
  }

  /** Sets the flush timer for whatever waits, unless one is set or a flush is being written. */
  #wake(): void {
    if (this.#timer !== undefined || this.#delivering) return;
    let wait = Infinity;
    for (const group of this.#groups.values()) {
      if (group.overflowed || group.pending.size > 0) wait = Math.min(wait, this.intervalMs);
      else if (group.othersChanged)
        wait = Math.min(
          wait,
          Math.max(this.intervalMs, this.#lastOthersResync + OTHERS_EVERY_MS - Date.now()),
        );
    }
    if (wait === Infinity) return;
    wait = Math.max(wait, this.#restUntil - performance.now());
    this.#timer = setTimeout(() => this.#flush(), wait).unref();
  }

  #flush(): void {
    this.#timer = undefined;
    const started = performance.now();
    const othersDue = Date.now() >= this.#lastOthersResync + OTHERS_EVERY_MS;
    if (othersDue) this.#lastOthersResync = Date.now();
    const deliveries: Delivery[] = [];
    for (const group of this.#groups.values()) {
      let batch: FeedBatch | undefined;
      if (group.overflowed || (group.othersChanged && othersDue)) {
        group.overflowed = false;
        group.othersChanged = false;
        group.pending.clear();
        batch = RESYNC;
      } else if (group.pending.size > 0) {
        const tasks = [...group.pending.values()].map(toSummary);
        group.pending.clear();
        batch = { kind: "tasks", tasks, frame: sseFrame("tasks", JSON.stringify({ tasks })) };
      }
      if (batch !== undefined)
        for (const deliver of group.subscribers) deliveries.push({ group, deliver, batch });
    }
    this.#delivering = true;
    this.#deliver(deliveries, 0, started);
  }

  /** Writes {@link STREAMS_PER_TURN} deliveries from `from`, the rest on later turns. */
  #deliver(deliveries: Delivery[], from: number, started: number): void {
    const end = Math.min(deliveries.length, from + STREAMS_PER_TURN);
    for (let i = from; i < end; i++) {
      const { group, deliver, batch } = deliveries[i]!;
      if (group.subscribers.has(deliver)) deliver(batch); // not one that left meanwhile
    }
    // The next turn, not the next tick: the sockets' writes go out on the next tick (an HTTP
    // response corks until then), and they are the cost being spread and measured.
    setImmediate(() => {
      if (end < deliveries.length) return this.#deliver(deliveries, end, started);
      const took = performance.now() - started;
      this.#restUntil = performance.now() + took * (1 / MAX_SHARE - 1);
      this.#delivering = false;
      this.#wake();
    });
  }
}

interface Delivery {
  group: Group;
  deliver: (batch: FeedBatch) => void;
  batch: FeedBatch;
}
