// The array parameters of the batched statements (insert_tasks.sql, update_tasks.sql): one array
// per column, so that a batch of any size is one statement with a fixed text (prepared once).
import type { PlannedChange } from "../change-planner.js";
import type { NewTask } from "../../domain/records.js";
import type { ValueSeal } from "../sealed-values.js";
import { sealedDetails, sealedJson } from "../stored-rows.js";
import type { SubmissionAudit } from "../task-store.js";

/** One task of an insert: the task, its submission number, and its audit record if asked. */
export interface InsertRow {
  task: NewTask;
  submitSeq: number;
  audit: SubmissionAudit | undefined;
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** The parameters of insert_tasks.sql: the rows', the writing node, and whether work goes to the outbox. */
export function insertParams(
  rows: readonly InsertRow[],
  node: string,
  outbox: boolean,
  seal: ValueSeal,
): unknown[] {
  const columns: unknown[][] = Array.from({ length: 19 }, () => []);
  const resultKeys: (string | null)[] = [];
  for (const { task, submitSeq, audit } of rows) {
    const values = [
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
      task.accepted.messageId,
      task.accepted.progress ?? null,
      sealedDetails(seal, task.accepted.details, task.id),
      task.accepted.at,
      audit?.principal ?? null,
      audit?.at ?? null,
    ];
    for (const [i, value] of values.entries()) columns[i]!.push(value);
    resultKeys.push(task.resultKey === null ? null : JSON.stringify(task.resultKey));
  }
  return [...columns, node, outbox, resultKeys];
}

/** The parameters of update_tasks.sql but the last (the node): a row per task, a status row per step, the guards. */
export function updateParams(changes: readonly PlannedChange[], seal: ValueSeal): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 24 }, () => []);
  for (const { from, steps, changes: asked } of changes) {
    const task = steps[steps.length - 1]!.snapshot;
    const leaseSet = asked.some((c) => c.patch?.leaseExpiresAt !== undefined);
    const row = [
      task.id,
      from.lastSequence,
      task.state,
      task.attempts,
      task.progress,
      sealedJson(seal, task.result, task.id),
      sealedJson(seal, task.error, task.id),
      json(task.allocation ?? undefined),
      task.runAt,
      task.leaseOwner,
      leaseSet,
      task.leaseExpiresAt,
      task.lastSequence,
      task.updatedAt,
      task.startedAt,
      task.finishedAt,
    ];
    for (const [i, value] of row.entries()) columns[i]!.push(value);
    columns[23]!.push(from.state);
    for (const { snapshot, draft } of steps) {
      const event = [
        task.id,
        snapshot.lastSequence,
        draft.messageId,
        snapshot.state,
        draft.progress ?? null,
        sealedDetails(seal, draft.details, task.id),
        draft.at,
      ];
      for (const [i, value] of event.entries()) columns[16 + i]!.push(value);
    }
  }
  return columns;
}
