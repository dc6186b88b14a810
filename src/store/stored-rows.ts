import type { TaskState } from "../protocol/states.js";
import { detailsHoldClientData, type StatusDetails, type TaskErrorInfo } from "../protocol/task-status.js";
import type { AllocationRecord, AuditEntry, TaskRecord } from "../domain/records.js";
import type { ValueSeal } from "./sealed-values.js";
import type { StoredStatus } from "./status-message.js";

// The stored rows of every SQL backend: the same tables and columns, read into records the same way.

/**
 * The columns of `tasks`, in table order: task queries select `*` as arrays (which the drivers
 * build several times faster than objects with named keys), and the SQLite store checks at
 * start-up that each returns exactly these.
 */
export const TASK_COLUMNS = [
  "submit_seq",
  "id",
  "submitter",
  "message_id",
  "type",
  "state",
  "priority",
  "deadline",
  "parameters",
  "requirements",
  "timeout_ms",
  "max_attempts",
  "attempts",
  "progress",
  "result",
  "error",
  "allocation",
  "run_at",
  "lease_owner",
  "lease_expires_at",
  "last_sequence",
  "created_at",
  "updated_at",
  "started_at",
  "finished_at",
  "result_key",
] as const;

/** A `tasks` row in raw mode: the values of {@link TASK_COLUMNS}, in that order. */
export type TaskRow = unknown[];

export interface EventRow {
  task_id: string;
  reference_id: string;
  sequence: number;
  message_id: string;
  status: TaskState;
  progress: number | null;
  details: string | null;
  at: number;
}

export interface AuditRow {
  id: number;
  at: number;
  principal: string;
  action: string;
  message_id: string | null;
  task_id: string | null;
  decision: string;
  payload: string | null;
}

const parseOrNull = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

/**
 * Reads stored rows into records, opening the values kept sealed (see {@link ValueSeal}): the
 * parameters, result and error of a task, the details of a status, the payload of an audit
 * record, each bound to its task's id.
 */
export class RowReader {
  constructor(readonly seal: ValueSeal) {}

  #json<T>(text: string | null, owner: string): T | null {
    return text === null ? null : (JSON.parse(this.seal.open(text, owner)) as T);
  }

  task = (row: TaskRow): TaskRecord => {
    const id = row[1] as string;
    return {
      submitSeq: row[0] as number,
      id,
      submitter: row[2] as string,
      messageId: row[3] as string,
      type: row[4] as string,
      state: row[5] as TaskState,
      priority: row[6] as number,
      deadline: row[7] as number | null,
      parameters: this.#json<Record<string, unknown>>(row[8] as string, id)!,
      requirements: JSON.parse(row[9] as string) as Record<string, number>,
      timeoutMs: row[10] as number | null,
      maxAttempts: row[11] as number,
      attempts: row[12] as number,
      progress: row[13] as number | null,
      result: row[14] === null ? undefined : this.#json<unknown>(row[14] as string, id),
      error: this.#json<TaskErrorInfo>(row[15] as string | null, id),
      allocation: parseOrNull<AllocationRecord>(row[16] as string | null),
      runAt: row[17] as number,
      leaseOwner: row[18] as string | null,
      leaseExpiresAt: row[19] as number | null,
      lastSequence: row[20] as number,
      createdAt: row[21] as number,
      updatedAt: row[22] as number,
      startedAt: row[23] as number | null,
      finishedAt: row[24] as number | null,
      resultKey: parseOrNull<Record<string, unknown>>(row[25] as string | null),
    };
  };

  status = (row: EventRow): StoredStatus => ({
    taskId: row.task_id,
    referenceId: row.reference_id,
    sequence: row.sequence,
    messageId: row.message_id,
    status: row.status,
    progress: row.progress,
    details: this.#json<StatusDetails>(row.details, row.task_id),
    at: row.at,
  });

  audit = (row: AuditRow): AuditEntry => ({
    id: row.id,
    at: row.at,
    principal: row.principal,
    action: row.action,
    messageId: row.message_id,
    taskId: row.task_id,
    decision: row.decision,
    payload:
      row.payload === null
        ? undefined
        : this.#json<unknown>(row.payload, auditOwner(row.task_id, row.principal)),
  });
}

/** What a value is sealed for: its task's id (statuses, audit records of a task), else its principal's. */
export function auditOwner(taskId: string | null, principal: string): string {
  return taskId ?? `principal:${principal}`;
}

/**
 * The text to store for a status's details: sealed when they hold client data (a result, an
 * error, a handler's details), and as they are when they hold only the engine's bookkeeping
 * (`task_accepted`, `execution_started`: half the statuses of a task, no secret in them).
 */
export function sealedDetails(
  seal: ValueSeal,
  details: StatusDetails | undefined,
  owner: string,
): string | null {
  if (details === undefined) return null;
  const json = JSON.stringify(details);
  return detailsHoldClientData(details) ? seal.seal(json, owner) : json;
}

/** The text to store for a value of `owner`'s (null stays null). */
export function sealedJson(seal: ValueSeal, value: unknown, owner: string): string | null {
  return value === undefined || value === null ? null : seal.seal(JSON.stringify(value), owner);
}
