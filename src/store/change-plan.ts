import { assertTransition } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import { LeaseLostError, StaleStateError } from "./errors.js";
import type { NewTask, TaskChange, TaskRecord } from "../domain/records.js";
import { toStatusMessage } from "./status-message.js";

// What a store does in memory around its writes, the same for every backend: the record after
// each of a sequence of changes (checked against the state table), and the record of a task just
// inserted.

/** A task as one change of a sequence leaves it, and the status that announces that change. */
export interface Step {
  snapshot: TaskRecord;
  draft: TaskChange["status"];
}

/**
 * The task after each change, checked and patched in memory (`task` is changed in place). A
 * change that is not legal from where the task is throws when `strict` (the record is the stored
 * one), and gives undefined otherwise (the record was a hint and may be out of date).
 */
export function planSteps(
  task: TaskRecord,
  changes: readonly TaskChange[],
  strict: boolean,
): Step[] | undefined {
  const steps: Step[] = [];
  for (const change of changes) {
    if (change.taskId !== task.id) throw new Error("recordChanges: all changes must name the same task");
    if (!change.from.includes(task.state)) {
      if (!strict) return undefined;
      throw new StaleStateError(change.taskId, change.from, task.state);
    }
    const holder = change.holder;
    if (holder !== undefined && (task.leaseOwner !== holder.owner || task.attempts !== holder.attempt)) {
      if (!strict) return undefined;
      throw new LeaseLostError(change.taskId, change.from, task.state, holder.owner);
    }
    if (change.to !== task.state) assertTransition(task.state, change.to);
    const patch = change.patch;
    if (patch !== undefined) {
      for (const key of Object.keys(patch) as (keyof typeof patch)[]) {
        const value = patch[key];
        if (value !== undefined) (task as unknown as Record<string, unknown>)[key] = value;
      }
    }
    task.state = change.to;
    task.lastSequence += 1;
    task.updatedAt = change.status.at;
    if (change.status.progress !== undefined) task.progress = change.status.progress;
    steps.push({ snapshot: { ...task }, draft: change.status });
  }
  return steps;
}

/** The stored form of a task just inserted (the columns insert_task.sql sets). */
export function newRecord(task: NewTask, submitSeq: number): TaskRecord {
  return {
    id: task.id,
    submitter: task.submitter,
    messageId: task.messageId,
    type: task.type,
    state: task.state,
    priority: task.priority,
    deadline: task.deadline,
    parameters: task.parameters,
    requirements: task.requirements,
    timeoutMs: task.timeoutMs,
    maxAttempts: task.maxAttempts,
    createdAt: task.createdAt,
    attempts: 0,
    progress: null,
    result: undefined,
    error: null,
    allocation: null,
    runAt: task.createdAt,
    leaseOwner: null,
    leaseExpiresAt: null,
    lastSequence: 1,
    submitSeq,
    updatedAt: task.createdAt,
    startedAt: null,
    finishedAt: null,
    resultKey: task.resultKey,
  };
}

/** A new task's acceptance, as written with it (status 1). */
export function acceptedStatus(task: NewTask): TaskStatus {
  return toStatusMessage({
    taskId: task.id,
    referenceId: task.messageId,
    sequence: 1,
    messageId: task.accepted.messageId,
    status: task.state,
    progress: task.accepted.progress ?? null,
    details: task.accepted.details ?? null,
    at: task.accepted.at,
  });
}
