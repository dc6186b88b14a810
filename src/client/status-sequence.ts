import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";

/** How long a status heard ahead of its turn waits for the ones before it. */
const GAP_MS = 1_000;

/**
 * One task's statuses in `sequence` order, each once, as an async iterable ending at the terminal
 * status: the broker's delivery of a task's statuses is at least once, and the order is per
 * publisher (the api announces an acceptance, a worker the start), so they may come twice or
 * out of turn. A status ahead of its turn is held until the ones before it come, or for
 * {@link GAP_MS} (one lost with a process that died is not waited for forever).
 */
export class StatusSequence implements AsyncIterable<TaskStatus> {
  #last: number;
  /** Held ahead of their turn, by sequence. */
  readonly #held = new Map<number, TaskStatus>();
  /** Released, not yet taken by the reader. */
  readonly #ready: TaskStatus[] = [];
  #wake: (() => void) | undefined;
  #gapTimer: NodeJS.Timeout | undefined;
  #ended = false;

  /** `afterSequence`: the last one the reader has. */
  constructor(afterSequence: number) {
    this.#last = afterSequence;
  }

  /** A status of the task, heard (in any order, maybe again). */
  add(status: TaskStatus): void {
    const sequence = status.header.sequence;
    if (this.#ended || sequence <= this.#last || this.#held.has(sequence)) return;
    this.#held.set(sequence, status);
    this.#release();
    if (this.#held.size > 0 && this.#gapTimer === undefined)
      this.#gapTimer = setTimeout(() => this.#skipGap(), GAP_MS).unref();
  }

  /** Stops: the reader's loop ends after what was released. */
  end(): void {
    this.#ended = true;
    this.#stopTimer();
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TaskStatus> {
    try {
      for (;;) {
        const next = this.#ready.shift();
        if (next !== undefined) {
          yield next;
          if (isTerminal(next.body.status)) return;
          continue;
        }
        if (this.#ended) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
      }
    } finally {
      this.end();
    }
  }

  #release(): void {
    for (
      let next = this.#held.get(this.#last + 1);
      next !== undefined;
      next = this.#held.get(this.#last + 1)
    ) {
      this.#held.delete(this.#last + 1);
      this.#last += 1;
      this.#ready.push(next);
    }
    if (this.#held.size === 0) this.#stopTimer();
    if (this.#ready.length > 0) this.#wake?.();
  }

  /** The gap was not filled in time: on to the earliest held status. */
  #skipGap(): void {
    this.#gapTimer = undefined;
    if (this.#held.size === 0) return;
    this.#last = Math.min(...this.#held.keys()) - 1;
    this.#release();
    if (this.#held.size > 0) this.#gapTimer = setTimeout(() => this.#skipGap(), GAP_MS).unref();
  }

  #stopTimer(): void {
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
  }
}
