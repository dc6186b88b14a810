import type { ErrorCode } from "../protocol/error-codes.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { ObservedStatus, TaskRecord } from "../domain/records.js";

/** Sees every durable change with the task it changed (metrics, tracing). Must not throw or block. */
export interface EngineObserver {
  /** A change this process made. */
  onStatus(task: TaskRecord, status: TaskStatus): void;
  onRejected(code: ErrorCode): void;
  /**
   * A status another process wrote to the store this one shares (heard, not made here: its task's
   * facts come with it, not its record, and it may repeat). Per-process figures (metrics) leave
   * these to their writer; cluster-wide ones (the dashboard's charts) count them.
   */
  onOtherStatus?(observed: ObservedStatus): void;
  /** A connection of this process to the database or the broker was lost; it is being made again. */
  onReconnecting?(to: "database" | "broker"): void;
}
