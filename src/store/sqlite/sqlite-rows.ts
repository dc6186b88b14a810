import type { TaskState } from "../../protocol/states.js";
import type { StatusDetails, TaskErrorInfo } from "../../protocol/task-status.js";
import type { AllocationRecord, AuditEntry, TaskRecord } from "../records.js";
import type { StoredStatus } from "../status-message.js";

/** A `tasks` row as SQLite returns it. */
export interface TaskRow {
  submit_seq: number;
  id: string;
  submitter: string;
  message_id: string;
  type: string;
  state: TaskState;
  priority: number;
  deadline: number | null;
  parameters: string;
  requirements: string;
  timeout_ms: number | null;
  max_attempts: number;
  attempts: number;
  progress: number | null;
  result: string | null;
  error: string | null;
  allocation: string | null;
  run_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_sequence: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

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

export function taskFromRow(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    submitter: row.submitter,
    messageId: row.message_id,
    type: row.type,
    state: row.state,
    priority: row.priority,
    deadline: row.deadline,
    parameters: JSON.parse(row.parameters) as Record<string, unknown>,
    requirements: JSON.parse(row.requirements) as Record<string, number>,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    attempts: row.attempts,
    progress: row.progress,
    result: row.result === null ? undefined : JSON.parse(row.result),
    error: parseOrNull<TaskErrorInfo>(row.error),
    allocation: parseOrNull<AllocationRecord>(row.allocation),
    runAt: row.run_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    lastSequence: row.last_sequence,
    submitSeq: row.submit_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** The parameters of `update_task.sql` for a task record. */
export function updateParams(task: TaskRecord) {
  return {
    id: task.id,
    state: task.state,
    attempts: task.attempts,
    progress: task.progress,
    result: task.result === undefined ? null : JSON.stringify(task.result),
    error: task.error === null ? null : JSON.stringify(task.error),
    allocation: task.allocation === null ? null : JSON.stringify(task.allocation),
    run_at: task.runAt,
    lease_owner: task.leaseOwner,
    lease_expires_at: task.leaseExpiresAt,
    last_sequence: task.lastSequence,
    updated_at: task.updatedAt,
    started_at: task.startedAt,
    finished_at: task.finishedAt,
  };
}

export function statusFromRow(row: EventRow): StoredStatus {
  return {
    taskId: row.task_id,
    referenceId: row.reference_id,
    sequence: row.sequence,
    messageId: row.message_id,
    status: row.status,
    progress: row.progress,
    details: parseOrNull<StatusDetails>(row.details),
    at: row.at,
  };
}

export function auditFromRow(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    principal: row.principal,
    action: row.action,
    messageId: row.message_id,
    taskId: row.task_id,
    decision: row.decision,
    payload: row.payload === null ? undefined : JSON.parse(row.payload),
  };
}
