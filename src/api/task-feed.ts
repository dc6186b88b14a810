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
 * The live task table behind the dashboard (`GET /v1/stream`): every durable change, coalesced per
 * task over `intervalMs`, so a browser gets at most a few batches a second however busy the engine
 * is, and each changed task once per batch with its latest state. A group that falls more than
 * {@link MAX_PENDING} tasks behind gets `resync` and reloads its page; so does one that other
 * processes on a shared store changed tasks for (at most once a second). A batch is built and
 * serialized once per group, however many streams watch it (a thousand admin dashboards cost one).
 */
export class TaskFeed implements EngineObserver {
  /** By submitter; the key `undefined` is every task's group. */
  readonly #groups = new Map<string | undefined, Group>();
  #timer: NodeJS.Timeout | undefined;
  #lastOthersResync = 0;

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
    const wait = Math.max(this.intervalMs, this.#lastOthersResync + OTHERS_EVERY_MS - Date.now());
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), wait).unref();
  }

  #add(group: Group | undefined, task: TaskRecord): void {
    if (group === undefined || group.overflowed) return;
    group.pending.set(task.id, task);
    if (group.pending.size > MAX_PENDING) {
      group.overflowed = true;
      group.pending.clear();
    }
    if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), this.intervalMs).unref();
  }

  #flush(): void {
    this.#timer = undefined;
    const othersDue = Date.now() >= this.#lastOthersResync + OTHERS_EVERY_MS;
    if (othersDue) this.#lastOthersResync = Date.now();
    let othersLeft = false;
    for (const group of this.#groups.values()) {
      let batch: FeedBatch | undefined;
      if (group.othersChanged && !othersDue) othersLeft = true;
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
      if (batch !== undefined) for (const deliver of group.subscribers) deliver(batch);
    }
    if (othersLeft && this.#timer === undefined)
      this.#timer = setTimeout(
        () => this.#flush(),
        this.#lastOthersResync + OTHERS_EVERY_MS - Date.now(),
      ).unref();
  }
}
