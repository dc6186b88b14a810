import type { Clock } from "./clock.js";

export interface TimerHandle {
  cancel(): void;
}

interface Entry {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Many timers on one: a min-heap of due times with a single real timer armed for the earliest.
 * Deadlines, timeouts and allocation waits of thousands of tasks cost one heap entry each,
 * not one Node timer each. Cancelled entries are dropped lazily when they reach the top.
 */
export class TimerQueue {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #order = 0;
  #armedAt = Number.POSITIVE_INFINITY;
  #handle: unknown;
  #live = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Number of timers scheduled and not cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Runs `fn` at time `at` (epoch ms; now or in the past runs on the next tick). */
  at(at: number, fn: () => void): TimerHandle {
    const entry: Entry = { at, order: this.#order++, fn, cancelled: false };
    this.#push(entry);
    this.#live += 1;
    this.#arm();
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.#live -= 1;
      },
    };
  }

  /** Cancels everything (on shutdown). */
  clear(): void {
    for (const entry of this.#heap) entry.cancelled = true;
    this.#heap.length = 0;
    this.#live = 0;
    if (this.#handle !== undefined) this.#clock.clearTimer(this.#handle);
    this.#handle = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    const next = this.#heap[0];
    if (next === undefined || next.at >= this.#armedAt) return;
    if (this.#handle !== undefined) this.#clock.clearTimer(this.#handle);
    this.#armedAt = next.at;
    this.#handle = this.#clock.setTimer(Math.max(0, next.at - this.#clock.now()), () => this.#fire());
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const entry = this.#pop()!;
      if (entry.cancelled) continue;
      entry.cancelled = true;
      this.#live -= 1;
      entry.fn();
    }
    this.#arm();
  }

  #before(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Entry | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && this.#before(heap[l]!, heap[best]!)) best = l;
        if (r < heap.length && this.#before(heap[r]!, heap[best]!)) best = r;
        if (best === i) break;
        [heap[i], heap[best]] = [heap[best]!, heap[i]!];
        i = best;
      }
    }
    return top;
  }
}
