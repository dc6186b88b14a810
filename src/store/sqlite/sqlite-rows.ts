import type { TaskRecord } from "../../domain/records.js";
import type { ValueSeal } from "../sealed-values.js";

/**
 * Appends the parameters of `update_task.sql`, in its order: `task` as it is after the change,
 * written only if the stored task is still as `expected` says (its sequence and state).
 */
export function pushUpdateParams(
  tape: unknown[],
  task: TaskRecord,
  expected: Pick<TaskRecord, "lastSequence" | "state">,
  leaseSet: boolean,
  seal: ValueSeal,
): void {
  tape.push(
    task.state,
    task.attempts,
    task.progress,
    task.result === undefined ? null : seal.seal(JSON.stringify(task.result), task.id),
    task.error === null ? null : seal.seal(JSON.stringify(task.error), task.id),
    task.allocation === null ? null : JSON.stringify(task.allocation),
    task.runAt,
    task.leaseOwner,
    leaseSet ? 1 : 0,
    task.leaseExpiresAt,
    task.lastSequence,
    task.updatedAt,
    task.startedAt,
    task.finishedAt,
    task.submitSeq,
    expected.lastSequence,
    expected.state,
  );
}
