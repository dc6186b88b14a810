import type { TaskState } from "../protocol/states.js";
import type { TaskErrorInfo } from "../protocol/task-status.js";
import type { AllocationRecord, ResourceAmounts, TaskListing, TaskRecord } from "../domain/records.js";

/** A task as clients see it (`GET /v1/tasks/{id}`, `client.get(id)`). Times are RFC 3339. */
export interface TaskSnapshot {
  id: string;
  reference_id: string;
  submitter: string;
  type: string;
  state: TaskState;
  progress: number | null;
  priority: number;
  deadline: string | null;
  attempts: number;
  max_attempts: number;
  requirements: ResourceAmounts;
  allocation: AllocationRecord | null;
  /** The node running the task, or that ran it last. */
  node: string | null;
  parameters: Record<string, unknown>;
  result: unknown;
  error: TaskErrorInfo | null;
  sequence: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toSnapshot(task: TaskRecord): TaskSnapshot {
  return { ...toSummary(task), parameters: task.parameters, result: task.result ?? null };
}

/** A task's row in a list or a live feed: the snapshot without its parameters and result. */
export type TaskSummary = Omit<TaskSnapshot, "parameters" | "result">;

export function toSummary(task: TaskListing): TaskSummary {
  return {
    id: task.id,
    reference_id: task.messageId,
    submitter: task.submitter,
    type: task.type,
    state: task.state,
    progress: task.progress,
    priority: task.priority,
    deadline: iso(task.deadline),
    attempts: task.attempts,
    max_attempts: task.maxAttempts,
    requirements: task.requirements,
    allocation: task.allocation,
    node: task.allocation?.node ?? task.leaseOwner,
    error: task.error,
    sequence: task.lastSequence,
    created_at: iso(task.createdAt)!,
    updated_at: iso(task.updatedAt)!,
    started_at: iso(task.startedAt),
    finished_at: iso(task.finishedAt),
  };
}
