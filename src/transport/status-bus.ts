import type { TaskStatus } from "../protocol/task-status.js";

export type StatusListener = (status: TaskStatus) => void;

/**
 * The status side of the Transport port: fans `task_status` messages out to whoever watches.
 * Messages are published only after they are durable, in per-task sequence order. Embedded
 * mode delivers in process; distributed mode will publish to the `taskexec.status` exchange.
 */
export interface StatusBus {
  publish(statuses: readonly TaskStatus[]): void;
  /** Listens to one task's statuses, or to every task's with `"*"`. Returns the unsubscribe. */
  subscribe(taskId: string, listener: StatusListener): () => void;
}
