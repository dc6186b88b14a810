// Builders of every change the engine makes to a task: each names the states it is legal from,
// the state it goes to, what it patches, and the status message that announces it.
import { randomUUID } from "node:crypto";
import { ERROR_CODES, type ErrorCode } from "../protocol/error-codes.js";
import type { ValidationIssue } from "../protocol/issues.js";
import { TASK_STATES, type TaskState, TERMINAL_STATES } from "../protocol/states.js";
import type { StatusDetails, TaskErrorInfo, TaskStatus } from "../protocol/task-status.js";
import type { AllocationRecord, StatusDraft, TaskChange, TaskRecord } from "../domain/records.js";

export const NON_TERMINAL_STATES: readonly TaskState[] = TASK_STATES.filter((s) => !TERMINAL_STATES.has(s));

export function draft(at: number, details: StatusDetails, progress?: number): StatusDraft {
  return { messageId: randomUUID(), at, details, progress };
}

export function errorInfo(
  code: ErrorCode,
  message: string,
  retryable: boolean = ERROR_CODES[code].retryable,
): TaskErrorInfo {
  return { code, message, retryable };
}

export function executionStarted(
  task: TaskRecord,
  allocation: AllocationRecord,
  node: string,
  now: number,
  leaseExpiresAt: number,
): TaskChange {
  const attempt = task.attempts + 1;
  return {
    taskId: task.id,
    known: task,
    from: ["resource_allocation"],
    to: "executing",
    patch: {
      attempts: attempt,
      allocation,
      leaseOwner: node,
      leaseExpiresAt,
      startedAt: task.startedAt ?? now,
      progress: 0,
      error: null,
    },
    status: draft(now, { event: "execution_started", attempt, node }, 0),
  };
}

export function progressUpdate(
  task: TaskRecord,
  attempt: number,
  fraction: number,
  details: Record<string, unknown>,
  now: number,
): TaskChange {
  return {
    taskId: task.id,
    known: task,
    from: ["executing"],
    to: "executing",
    status: draft(now, { ...details, event: "progress_update", attempt }, fraction),
  };
}

/** executing → completing → completed: two changes, queued together so they commit together. */
export function completion(
  task: TaskRecord,
  attempt: number,
  result: unknown,
  now: number,
): [TaskChange, TaskChange] {
  return [
    {
      taskId: task.id,
      known: task,
      from: ["executing"],
      to: "completing",
      patch: { result },
      status: draft(now, { attempt }),
    },
    completed(task, attempt, result, now),
  ];
}

export function completed(task: TaskRecord, attempt: number, result: unknown, now: number): TaskChange {
  return {
    taskId: task.id,
    known: task,
    from: ["completing"],
    to: "completed",
    patch: { result, progress: 1, finishedAt: now, leaseOwner: null, leaseExpiresAt: null },
    status: draft(now, { event: "task_completed", attempt, result, ...ranOn(task) }, 1),
  };
}

/**
 * A failed attempt (or allocation wait): retried with backoff when the error is retryable and
 * attempts remain, else final. `attempts` is the number of attempts now used up.
 */
export function failure(
  task: TaskRecord,
  from: "executing" | "waiting",
  attempts: number,
  error: TaskErrorInfo,
  now: number,
  retryAt: number,
): TaskChange {
  const release = { attempts, error, leaseOwner: null, leaseExpiresAt: null, allocation: null };
  if (error.retryable && attempts < task.maxAttempts) {
    return {
      taskId: task.id,
      known: task,
      from: [from],
      to: "waiting",
      patch: { ...release, runAt: retryAt },
      status: draft(now, {
        event: "retry_scheduled",
        attempt: attempts,
        retry_at: new Date(retryAt).toISOString(),
        error,
      }),
    };
  }
  return failed(task, from, attempts, error, now);
}

export function failed(
  task: TaskRecord,
  from: TaskState,
  attempts: number,
  error: TaskErrorInfo,
  now: number,
): TaskChange {
  return {
    taskId: task.id,
    known: task,
    from: [from],
    to: "failed",
    patch: { attempts, error, finishedAt: now, leaseOwner: null, leaseExpiresAt: null, allocation: null },
    status: draft(now, { event: "task_failed", attempt: attempts, error, ...ranOn(task) }),
  };
}

/** The node that held the task as it ended: which worker ran it, and whose death may leave its end untold. */
function ranOn(task: TaskRecord): { node?: string } {
  return task.leaseOwner === null ? {} : { node: task.leaseOwner };
}

export function cancelled(task: TaskRecord, reason: string, by: string, now: number): TaskChange {
  const error = errorInfo("cancelled", reason);
  return {
    taskId: task.id,
    known: task,
    from: NON_TERMINAL_STATES,
    to: "cancelled",
    patch: { error, finishedAt: now, leaseOwner: null, leaseExpiresAt: null },
    status: draft(now, { event: "task_cancelled", attempt: task.attempts, error, cancelled_by: by }),
  };
}

/** resource_allocation → waiting: this node holds the task (leased) until resources free up. */
export function resourcesWaiting(
  task: TaskRecord,
  node: string,
  now: number,
  leaseExpiresAt: number,
): TaskChange {
  return {
    taskId: task.id,
    known: task,
    from: ["resource_allocation"],
    to: "waiting",
    patch: { leaseOwner: node, leaseExpiresAt, runAt: now },
    status: draft(now, { event: "resources_waiting", node }),
  };
}

/** waiting → resource_allocation: a retry fell due, resources were granted, or a waiter came back. */
export function backToAllocation(task: TaskRecord, now: number, details: StatusDetails = {}): TaskChange {
  return {
    taskId: task.id,
    known: task,
    from: ["waiting"],
    to: "resource_allocation",
    patch: { leaseOwner: null, leaseExpiresAt: null, runAt: now },
    status: draft(now, details),
  };
}

/** A queued task whose deadline passed: it never ran (resource_allocation goes via waiting). */
export function deadlinePassedInQueue(task: TaskRecord, now: number): TaskChange[] {
  const error = errorInfo("deadline_exceeded", "the deadline passed before the task could finish");
  const end = failed(task, "waiting", task.attempts, error, now);
  if (task.state === "waiting") return [end];
  return [
    {
      taskId: task.id,
      known: task,
      from: ["resource_allocation"],
      to: "waiting",
      status: draft(now, { reason: "deadline_exceeded" }),
    },
    end,
  ];
}

/** The reply to a rejected submission: it never became a task, so it has no task id. */
export function rejectionStatus(
  messageId: string,
  code: ErrorCode,
  issues: ValidationIssue[],
  message: string,
  now: number,
): TaskStatus {
  return {
    type: "task_status",
    header: {
      message_id: randomUUID(),
      reference_id: messageId,
      timestamp: new Date(now).toISOString(),
      task_id: null,
      sequence: 1,
    },
    body: {
      status: "rejected",
      details: { event: "task_rejected", error: errorInfo(code, message, false), errors: issues },
    },
  };
}
