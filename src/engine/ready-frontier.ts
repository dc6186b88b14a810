import type { TaskRecord } from "../domain/records.js";
import { compareSchedulingKeys } from "../domain/scheduling-order.js";

/** What a {@link ReadyFrontier.takeEach} visitor returns to end the walk. */
export const STOP: unique symbol = Symbol("stop");

/**
 * The ready frontier: the best few ready tasks, in memory, in scheduling order. Everything else
 * that is queued stays on disk, so a million queued tasks cost disk, not RAM.
 *
 * Invariant: the frontier holds the top `capacity` ready tasks that no one has taken yet, or
 * all of them when `complete` is true. A new task enters only if it belongs in that top.
 */
export class ReadyFrontier {
  // Sorted worst first, so the best is popped from the end.
  readonly #items: TaskRecord[] = [];
  readonly #ids = new Set<string>();
  /** True when every ready task on disk is also here. */
  complete = false;

  /**
   * @param onDrop told of each task the frontier lets go of for want of room (pushed out by a
   *   better one, or read when it was full): someone must give back a claim on it.
   */
  constructor(
    readonly capacity: number,
    private readonly onDrop: (task: TaskRecord) => void = () => {},
  ) {}

  get size(): number {
    return this.#items.length;
  }

  /** The last task in scheduling order that the frontier holds (refills continue after it). */
  worst(): TaskRecord | undefined {
    return this.#items[0];
  }

  /** The ids of the tasks it holds, in no order. */
  ids(): IterableIterator<string> {
    return this.#ids.values();
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  pop(): TaskRecord | undefined {
    const task = this.#items.pop();
    if (task) this.#ids.delete(task.id);
    return task;
  }

  /**
   * Walks the tasks from the best down, at most `maxLooks` of them, once: each task for which
   * `visit` returns a decision is taken out; `undefined` leaves it where it is; {@link STOP}
   * ends the walk. One pass, however many tasks are passed over, so a scheduler that cannot start
   * the best tasks does not look at them again for every one it can.
   */
  takeEach<D>(
    visit: (task: TaskRecord) => D | undefined | typeof STOP,
    maxLooks: number,
  ): { task: TaskRecord; decision: D }[] {
    const taken: { task: TaskRecord; decision: D }[] = [];
    const indexes: number[] = [];
    const last = Math.max(0, this.#items.length - maxLooks);
    for (let i = this.#items.length - 1; i >= last; i--) {
      const task = this.#items[i]!;
      const decision = visit(task);
      if (decision === STOP) break;
      if (decision === undefined) continue;
      taken.push({ task, decision });
      indexes.push(i);
    }
    // Highest index first, so each removal leaves the indexes still to remove where they were.
    for (const i of indexes) {
      this.#ids.delete(this.#items[i]!.id);
      this.#items.splice(i, 1);
    }
    return taken;
  }

  remove(id: string): boolean {
    if (!this.#ids.delete(id)) return false;
    this.#items.splice(
      this.#items.findIndex((t) => t.id === id),
      1,
    );
    return true;
  }

  /** Offers a task that just became ready. Returns whether it was kept in memory. */
  offer(task: TaskRecord): boolean {
    if (this.#ids.has(task.id)) return true;
    const worst = this.#items[0];
    const belongs = this.complete || (worst !== undefined && compareSchedulingKeys(task, worst) < 0);
    if (!belongs) return false;
    this.#insert(task);
    if (this.#items.length > this.capacity) {
      const dropped = this.#items.shift()!;
      this.#ids.delete(dropped.id);
      this.complete = false;
      this.onDrop(dropped);
    }
    return true;
  }

  /** Adds tasks read from disk (best first), skipping those already here. */
  fill(tasks: readonly TaskRecord[], complete: boolean): void {
    for (const task of tasks) {
      if (this.#ids.has(task.id)) continue;
      if (this.#items.length >= this.capacity) this.onDrop(task);
      else this.#insert(task);
    }
    this.complete = complete && this.#items.length < this.capacity;
  }

  #insert(task: TaskRecord): void {
    // Binary search for the first item that runs before `task` (items are worst first).
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareSchedulingKeys(this.#items[mid]!, task) > 0) lo = mid + 1;
      else hi = mid;
    }
    this.#items.splice(lo, 0, task);
    this.#ids.add(task.id);
  }
}
