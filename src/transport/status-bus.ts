import type { ObservedStatus } from "../domain/records.js";
import type { TaskStatus } from "../protocol/task-status.js";

export type StatusListener = (status: TaskStatus) => void;

/**
 * A status with its task's submitter: a broker routes statuses by both (`<submitter>.<task_id>`,
 * SPEC §4), so that a submitter's stream can bind to its own tasks alone.
 */
export interface RoutedStatus {
  submitter: string;
  status: TaskStatus;
  /**
   * The task's facts, for observers in other processes (charts count waits and run times) that
   * hear the status from a broker and should not read the store for them. None for a rejection.
   */
  task?: Pick<ObservedStatus, "type" | "createdAt" | "startedAt">;
  /**
   * The answer to a submission that named an existing task (its latest status): a broker marks
   * it, so that a submitter hearing it knows nothing new was created (HTTP answers 200, not 202).
   */
  duplicate?: boolean;
}

/** Ends a subscription. */
export type Unsubscribe = () => void;

/**
 * The status side of the Transport port: fans `task_status` messages out to whoever watches.
 * Messages are published only after they are durable, in per-task sequence order. Embedded mode
 * delivers in process (and, on a shared PostgreSQL store, what the other processes wrote, as
 * their change feed hears it); distributed mode will publish to the `taskexec.status` exchange.
 *
 * Both sides are asynchronous, as a broker's are: `publish` resolves once the bus holds the
 * messages (a broker: once it confirmed them), and a subscription resolves once it listens, so
 * that "subscribe, then read history" misses nothing (see watchStatuses).
 * `test/contract/status-bus.contract.ts` is the definition of this port.
 */
export interface StatusBus {
  /**
   * Whether its subscribers hear what other processes publish (a broker) too; false: only this
   * process's statuses (the others', heard through a status feed, are published here again).
   */
  readonly reachesOthers: boolean;
  publish(statuses: readonly RoutedStatus[]): Promise<void>;
  /** Listens to one task's statuses; resolves, once listening, to the unsubscribe. */
  subscribe(taskId: string, listener: StatusListener): Promise<Unsubscribe>;
  /** Listens to every task's statuses. */
  subscribeAll(listener: StatusListener): Promise<Unsubscribe>;
}
