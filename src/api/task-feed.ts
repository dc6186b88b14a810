import type { EngineObserver } from "../engine/engine-observer.js";
import { type TaskSummary, toSummary } from "../engine/task-snapshot.js";
import type { ErrorCode } from "../protocol/error-codes.js";
import type { TaskRecord } from "../store/records.js";

/** What a feed subscriber receives: changed rows, or word that too much changed to list. */
export type FeedBatch = { kind: "tasks"; tasks: TaskSummary[] } | { kind: "resync" };

/** Rows held per subscriber between flushes; past this the subscriber is told to reload instead. */
const MAX_PENDING = 1_000;

interface Subscription {
  /** Only this submitter's tasks; undefined for every task. */
  submitter: string | undefined;
  deliver(batch: FeedBatch): void;
  /** The newest record of each task changed since the last flush. */
  pending: Map<string, TaskRecord>;
  overflowed: boolean;
}

/**
 * The live task table behind the dashboard (`GET /v1/stream`): every durable change, coalesced per
 * task over `intervalMs`, so a browser gets at most a few batches a second however busy the engine
 * is, and each changed task once per batch with its latest state. A subscriber that falls more than
 * {@link MAX_PENDING} tasks behind gets `resync` and reloads its page.
 */
export class TaskFeed implements EngineObserver {
  readonly #subscriptions = new Set<Subscription>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 250) {}

  subscribe(submitter: string | undefined, deliver: (batch: FeedBatch) => void): () => void {
    const subscription: Subscription = { submitter, deliver, pending: new Map(), overflowed: false };
    this.#subscriptions.add(subscription);
    return () => this.#subscriptions.delete(subscription);
  }

  onStatus(task: TaskRecord): void {
    for (const sub of this.#subscriptions) {
      if (sub.submitter !== undefined && sub.submitter !== task.submitter) continue;
      if (sub.overflowed) continue;
      sub.pending.set(task.id, task);
      if (sub.pending.size > MAX_PENDING) {
        sub.overflowed = true;
        sub.pending.clear();
      }
      if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), this.intervalMs).unref();
    }
  }

  onRejected(_code: ErrorCode): void {}

  #flush(): void {
    this.#timer = undefined;
    for (const sub of this.#subscriptions) {
      if (sub.overflowed) {
        sub.overflowed = false;
        sub.deliver({ kind: "resync" });
      } else if (sub.pending.size > 0) {
        const tasks = [...sub.pending.values()].map(toSummary);
        sub.pending.clear();
        sub.deliver({ kind: "tasks", tasks });
      }
    }
  }
}
