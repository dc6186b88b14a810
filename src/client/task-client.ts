import type { TaskSnapshot, TaskSummary } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import type { TaskState } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";

/** A task to submit, in the library's words (the client builds the `submit_task` message). */
export interface SubmitRequest {
  type: string;
  parameters?: Record<string, unknown>;
  /** 0–9, higher runs first. @default 5 */
  priority?: number;
  deadline?: Date | string;
  requirements?: Record<string, number>;
  timeoutMs?: number;
  maxAttempts?: number;
  /** The idempotency key: submitting the same one again returns the same task. @default a UUID */
  messageId?: string;
}

export interface SubmittedTask {
  id: string;
  /** The acceptance (or, for a duplicate, the task's latest status). */
  status: TaskStatus;
  /** True when the message id named an existing task and nothing new was created. */
  duplicate: boolean;
}

/** One result of `submitMany`: a task, or the rejection of that one request. */
export type SubmitManyResult =
  | ({ ok: true } & SubmittedTask)
  | {
      ok: false;
      id: null;
      status: TaskStatus | null;
      error: { code: string; message: string; issues?: unknown };
    };

export interface TaskFilter {
  state?: TaskState;
  type?: string;
  limit?: number;
  cursor?: string;
}

export interface TaskPage {
  /** Summaries: `get(id)` has a task's parameters and result. */
  tasks: TaskSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** What every client offers, in process (`executor.client()`) or over HTTP (`TaskClient`). */
export interface TaskClientApi {
  submit(request: SubmitRequest): Promise<SubmittedTask>;
  /** Submits all in one round trip and one transaction; one bad request never spoils the rest. */
  submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]>;
  /** A task by its id, or a unique prefix of it (8 characters or more). */
  get(id: string): Promise<TaskSnapshot>;
  /** The task's statuses (history, then live), ending with its terminal status. */
  watch(id: string, options?: { afterSequence?: number; signal?: AbortSignal }): AsyncIterable<TaskStatus>;
  cancel(id: string, reason?: string): Promise<TaskStatus>;
  list(filter?: TaskFilter): Promise<TaskPage>;
  /** The task types the server runs, each with its parameters' JSON Schema and an example. */
  types(): Promise<HandlerTypeInfo[]>;
}
