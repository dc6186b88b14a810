// The main thread's side of the write tape (see sqlite-worker-messages.ts): appends one unit of a
// write in the layout the worker's SqliteBatchRunner reads.
import { sealedDetails } from "../stored-rows.js";
import type { Step as PlannedStep } from "../change-plan.js";
import type { NewTask, StatusDraft, TaskChange, TaskRecord } from "../../domain/records.js";
import type { ValueSeal } from "../sealed-values.js";
import type { SubmissionAudit } from "../task-store.js";
import { pushUpdateParams } from "./sqlite-rows.js";
import {
  OP_CHANGE,
  OP_INSERT,
  OP_STEP,
  type Params,
  type StepKind,
  type Tape,
} from "./sqlite-worker-messages.js";

/** A new task numbered `submitSeq`, its acceptance, and its audit record when there is one. */
export function encodeInsert(
  tape: Tape,
  submitSeq: number,
  task: NewTask,
  audit: SubmissionAudit | undefined,
  seal: ValueSeal,
): void {
  tape.push(
    OP_INSERT,
    submitSeq,
    task.id,
    task.submitter,
    task.messageId,
    task.type,
    task.state,
    task.priority,
    task.deadline,
    seal.seal(JSON.stringify(task.parameters), task.id),
    JSON.stringify(task.requirements),
    task.timeoutMs,
    task.maxAttempts,
    task.createdAt,
    task.createdAt,
    task.createdAt,
    task.resultKey === null ? null : JSON.stringify(task.resultKey),
  );
  pushDraft(tape, task.accepted, task.id, seal);
  if (audit === undefined) tape.push(0);
  else tape.push(1, audit.at, audit.principal);
}

/**
 * Changes planned from `from`: the row as the last step leaves it, written only if the stored
 * task is still at `from`'s sequence and state, and a status per step.
 */
export function encodeChange(
  tape: Tape,
  from: TaskRecord,
  steps: readonly PlannedStep[],
  changes: readonly TaskChange[],
  seal: ValueSeal,
): void {
  const task = steps[steps.length - 1]!.snapshot;
  const leaseSet = changes.some((c) => c.patch?.leaseExpiresAt !== undefined);
  tape.push(OP_CHANGE, from.id);
  pushUpdateParams(tape, task, from, leaseSet, seal);
  tape.push(steps.length);
  for (const { snapshot, draft } of steps) {
    tape.push(snapshot.lastSequence, draft.messageId, snapshot.state);
    pushDraft(tape, draft, from.id, seal, false);
  }
}

/** One statement, unguarded. */
export function encodeStep(tape: Tape, statement: number, params: Params, kind: StepKind): void {
  tape.push(OP_STEP, statement, params, kind);
}

function pushDraft(tape: Tape, draft: StatusDraft, taskId: string, seal: ValueSeal, withId = true): void {
  if (withId) tape.push(draft.messageId);
  tape.push(draft.progress ?? null, sealedDetails(seal, draft.details, taskId), draft.at);
}
