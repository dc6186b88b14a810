import type { TaskState } from "../../protocol/states.js";

/**
 * Tasks per submitter and state, kept in memory by a store that is the only writer of its
 * database (embedded mode): counted once when the store opens, then moved by every committed
 * write. Answers `countByState` without scanning, which at a million tasks took a scan of an
 * index per call, and spares every transition the upkeep of a (state, …) index.
 */
export class StateCounts {
  readonly #bySubmitter = new Map<string, Map<TaskState, number>>();

  /** Adds `n` (negative to remove) tasks of a submitter in a state. */
  add(submitter: string, state: TaskState, n: number): void {
    let states = this.#bySubmitter.get(submitter);
    if (states === undefined) {
      states = new Map();
      this.#bySubmitter.set(submitter, states);
    }
    const count = (states.get(state) ?? 0) + n;
    if (count > 0) states.set(state, count);
    else states.delete(state);
    if (states.size === 0) this.#bySubmitter.delete(submitter);
  }

  /** One task of a submitter went from one state to another. */
  move(submitter: string, from: TaskState, to: TaskState): void {
    if (from === to) return;
    this.add(submitter, from, -1);
    this.add(submitter, to, 1);
  }

  /** Tasks per state: one submitter's, or everyone's. States with none are left out. */
  count(submitter?: string): Record<string, number> {
    const out: Record<string, number> = {};
    const sources = submitter === undefined ? this.#bySubmitter.values() : [this.#bySubmitter.get(submitter)];
    for (const states of sources) {
      if (states === undefined) continue;
      for (const [state, n] of states) out[state] = (out[state] ?? 0) + n;
    }
    return out;
  }
}
