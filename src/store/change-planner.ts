import { coerceError } from "../protocol/errors.js";
import { ChangeChains } from "./change-chains.js";
import { planSteps, type Step } from "./change-plan.js";
import { StaleStateError } from "./errors.js";
import type { TaskChange, TaskRecord } from "../domain/records.js";
import { toStatusMessage } from "./status-message.js";
import type { ChangeOutcome } from "./task-store.js";

/** Changes planned in memory, ready to be written as one guarded row update with a status per step. */
export interface PlannedChange {
  /** The record the steps were planned from: the write applies only while the stored task is at its sequence. */
  from: TaskRecord;
  steps: readonly Step[];
  changes: readonly TaskChange[];
}

/** What became of a planned write: written, or refused with the stored task (undefined: there is none). */
export type WriteAnswer = { written: true } | { written: false; stored: TaskRecord | undefined };

/** The backend's side of a {@link ChangePlanner}. */
export interface PlannedWriter {
  /**
   * Writes a planned change without waiting for earlier ones (they are queued in order), and
   * settles with what `answer` makes of the outcome.
   */
  write<T>(planned: PlannedChange, answer: (outcome: WriteAnswer) => T | Promise<T>): Promise<T>;
  read(taskId: string): Promise<TaskRecord | undefined>;
  /** A write committed: from `from` to the outcomes' last record (counts, quotas). */
  committed(from: TaskRecord, outcomes: readonly ChangeOutcome[]): void;
}

/**
 * Applies changes to one task at a time, for a store that plans changes in memory and writes them
 * without waiting for earlier ones (both SQL backends). The plan starts from the record the
 * task's writes in flight leave it in (see ChangeChains), else from the first change's `known`
 * record, else from a read. If the stored task moved on since (a stale hint, or another process),
 * the write is refused and the changes are planned again from the stored task, strictly: a
 * refusal then (stale state, illegal transition) rejects with nothing written.
 */
export class ChangePlanner {
  readonly #chains = new ChangeChains();
  readonly #writer: PlannedWriter;

  constructor(writer: PlannedWriter) {
    this.#writer = writer;
  }

  apply<T>(
    changes: readonly TaskChange[],
    pick: (outcomes: ChangeOutcome[]) => T,
    onRecorded?: (outcome: ChangeOutcome) => void,
  ): Promise<T> {
    try {
      if (this.#chains.mustRead(changes[0]!.taskId)) return this.#fromStored(changes, pick, onRecorded);
      return this.#from(changes, pick, onRecorded, changes[0]!.known, false);
    } catch (error) {
      return Promise.reject(coerceError(error));
    }
  }

  /**
   * Planned on the tip of the task's writes in flight, else on `base` (`stored`: the stored task,
   * so a refusal is final); throws at once when a final plan refuses.
   */
  #from<T>(
    changes: readonly TaskChange[],
    pick: (outcomes: ChangeOutcome[]) => T,
    onRecorded: ((outcome: ChangeOutcome) => void) | undefined,
    base: TaskRecord | undefined,
    stored: boolean,
  ): Promise<T> {
    const tip = this.#chains.tip(changes[0]!.taskId);
    const from = tip ?? base;
    const steps = from && planSteps({ ...from }, changes, stored || tip !== undefined);
    if (from === undefined || steps === undefined) return this.#fromStored(changes, pick, onRecorded);
    const chain = this.#chains.extend(steps[steps.length - 1]!.snapshot);
    let answered = false;
    const written = this.#writer.write({ from, steps, changes }, (answer) => {
      answered = true;
      if (!answer.written) {
        this.#chains.answered(chain, false);
        if (answer.stored === undefined) throw new StaleStateError(from.id, changes[0]!.from, undefined);
        return this.#from(changes, pick, onRecorded, answer.stored, true);
      }
      this.#chains.answered(chain, true);
      const outcomes = steps.map(outcomeOf);
      this.#writer.committed(from, outcomes);
      onRecorded?.(outcomes[0]!);
      return pick(outcomes);
    });
    // A write that failed outright (the disk, the connection) breaks its chain like a refusal.
    written.catch(() => answered || this.#chains.answered(chain, false));
    return written;
  }

  /** For changes without a usable hint, or behind one that reads: reads the task first. */
  async #fromStored<T>(
    changes: readonly TaskChange[],
    pick: (outcomes: ChangeOutcome[]) => T,
    onRecorded?: (outcome: ChangeOutcome) => void,
  ): Promise<T> {
    const first = changes[0]!;
    this.#chains.reading(first.taskId);
    let stored: TaskRecord | undefined;
    try {
      stored = await this.#writer.read(first.taskId);
    } finally {
      this.#chains.readDone(first.taskId);
    }
    if (stored === undefined && this.#chains.tip(first.taskId) === undefined)
      throw new StaleStateError(first.taskId, first.from, undefined);
    return this.#from(changes, pick, onRecorded, stored, true);
  }
}

function outcomeOf({ snapshot, draft }: Step): ChangeOutcome {
  return {
    task: snapshot,
    status: toStatusMessage({
      taskId: snapshot.id,
      referenceId: snapshot.messageId,
      sequence: snapshot.lastSequence,
      messageId: draft.messageId,
      status: snapshot.state,
      progress: draft.progress ?? null,
      details: draft.details ?? null,
      at: draft.at,
    }),
  };
}
