import type { TaskRecord } from "../../domain/records.js";

/**
 * Appends the parameters of `update_task.sql`, in its order: `task` as it is after the change,
 * written only if the stored task is still as `expected` says (its sequence and state).
 */
export function pushUpdateParams(
  tape: unknown[],
  task: TaskRecord,
  expected: Pick<TaskRecord, "lastSequence" | "state">,
  leaseSet: boolean,
): void {
  tape.push(
    task.state,
    task.attempts,
    task.progress,
    task.result === undefined ? null : JSON.stringify(task.result),
    task.error === null ? null : JSON.stringify(task.error),
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
