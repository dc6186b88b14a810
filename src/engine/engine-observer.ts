import type { ErrorCode } from "../protocol/error-codes.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { TaskRecord } from "../store/records.js";

/** Sees every durable change with the task it changed (metrics, tracing). Must not throw or block. */
export interface EngineObserver {
  onStatus(task: TaskRecord, status: TaskStatus): void;
  onRejected(code: ErrorCode): void;
}
