import type { TaskRecord } from "../domain/records.js";

/** Writes of changes to one task, each planned on the one before: see {@link ChangeChains}. */
export interface ChangeChain {
  /** The task as the newest change of the chain leaves it: where the next change is planned from. */
  tip: TaskRecord;
  /** Writes of the chain not yet answered. */
  pending: number;
  /** One of its writes was refused: the rest were planned on a record that never came to be. */
  broken: boolean;
}

/** Where one task's changes stand. */
interface TaskLine {
  /** The chain a change made now extends, if its writes are in flight. */
  chain: ChangeChain | undefined;
  /** Writes of broken chains not yet answered: each will be refused and planned again. */
  doomed: number;
  /** Changes waiting for a read of the task before they are planned. */
  reading: number;
}

/**
 * For a store that plans changes in memory and writes them without waiting for earlier ones: the
 * order of each task's changes. Changes to one task commit in the order they were made, however
 * many are in flight (a handler that reports progress without awaiting it; concurrent callers).
 *
 * A change to a task with writes in flight is planned on the record the newest of them leaves it
 * in (the chain's tip), not on the caller's hint or on a read, which cannot see writes in flight.
 * A change that must read the task first holds back every change made after it: they read too,
 * and reads are answered in order, so each is planned after the one before. When a write is
 * refused (its hint was out of date) its chain breaks: the writes after it were planned on a
 * record that never came to be, so they will be refused too, and each refused change is planned
 * again, in order, from the stored task; until they all are, new changes read first as well.
 */
export class ChangeChains {
  readonly #lines = new Map<string, TaskLine>();

  /** The record a change to `taskId` made now is planned on, if the task has writes in flight. */
  tip(taskId: string): TaskRecord | undefined {
    return this.#lines.get(taskId)?.chain?.tip;
  }

  /** Whether a change to `taskId` made now must read the task first, to keep its place in line. */
  mustRead(taskId: string): boolean {
    const line = this.#lines.get(taskId);
    return line !== undefined && (line.reading > 0 || line.doomed > 0);
  }

  /** A change to `taskId` waits for a read of it; {@link readDone} when it arrives. */
  reading(taskId: string): void {
    this.#line(taskId).reading += 1;
  }

  readDone(taskId: string): void {
    const line = this.#lines.get(taskId);
    if (line === undefined) return;
    line.reading -= 1;
    this.#tidy(taskId, line);
  }

  /** Records the write of a change that leaves the task as `tip`; returns the chain it joined. */
  extend(tip: TaskRecord): ChangeChain {
    const line = this.#line(tip.id);
    const chain = line.chain;
    if (chain === undefined) return (line.chain = { tip, pending: 1, broken: false });
    chain.tip = tip;
    chain.pending += 1;
    return chain;
  }

  /** A write of `chain` was answered: `committed`, or refused (or failed, which counts the same). */
  answered(chain: ChangeChain, committed: boolean): void {
    const id = chain.tip.id;
    const line = this.#lines.get(id);
    chain.pending -= 1;
    if (line === undefined) return;
    if (chain.broken) {
      line.doomed -= 1;
    } else if (!committed) {
      chain.broken = true;
      line.doomed += chain.pending;
      if (line.chain === chain) line.chain = undefined;
    } else if (chain.pending === 0 && line.chain === chain) {
      line.chain = undefined;
    }
    this.#tidy(id, line);
  }

  /** Tasks with changes in flight or waiting (for tests). */
  get size(): number {
    return this.#lines.size;
  }

  #line(taskId: string): TaskLine {
    let line = this.#lines.get(taskId);
    if (line === undefined) {
      line = { chain: undefined, doomed: 0, reading: 0 };
      this.#lines.set(taskId, line);
    }
    return line;
  }

  #tidy(taskId: string, line: TaskLine): void {
    if (line.chain === undefined && line.doomed === 0 && line.reading === 0) this.#lines.delete(taskId);
  }
}
