import type { TaskState } from "../protocol/states.js";
import type { StatusDetails, TaskErrorInfo, TaskStatus } from "../protocol/task-status.js";

/** Amounts per resource kind (`cpu`, `memory_mb`, `gpu`, custom). */
export type ResourceAmounts = Record<string, number>;

/** What a task was granted: the amounts, and the node that granted them. */
export interface AllocationRecord {
  id: string;
  node: string;
  amounts: ResourceAmounts;
}

/** A task as the store keeps it. Times are epoch milliseconds. */
export interface TaskRecord {
  id: string;
  /** The principal that submitted the task (the tenant). */
  submitter: string;
  /** The submit_task's `message_id`: the `reference_id` of every status about this task. */
  messageId: string;
  type: string;
  state: TaskState;
  priority: number;
  deadline: number | null;
  parameters: Record<string, unknown>;
  requirements: ResourceAmounts;
  timeoutMs: number | null;
  maxAttempts: number;
  /** Attempts started (or lost to allocation timeouts) so far. */
  attempts: number;
  progress: number | null;
  result: unknown;
  error: TaskErrorInfo | null;
  allocation: AllocationRecord | null;
  /** Earliest time a `waiting` task may go back to `resource_allocation` (its retry time). */
  runAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastSequence: number;
  /** Submission order, for FIFO among equals. */
  submitSeq: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The submitter's public JWK its result is encrypted for (`result_key`); null: stored as it is. */
  resultKey: Record<string, unknown> | null;
}

/** The fields of a status message that the caller chooses; the store adds the sequence. */
export interface StatusDraft {
  messageId: string;
  at: number;
  progress?: number | undefined;
  details?: StatusDetails | undefined;
}

/** A task to insert: its fixed fields, the state it is accepted into, and the status announcing that (sequence 1). */
export type NewTask = Pick<
  TaskRecord,
  | "id"
  | "submitter"
  | "messageId"
  | "type"
  | "state"
  | "priority"
  | "deadline"
  | "parameters"
  | "requirements"
  | "timeoutMs"
  | "maxAttempts"
  | "createdAt"
  | "resultKey"
> & { accepted: StatusDraft };

/** Fields a transition may change. `undefined` leaves a field as it is; `null` clears it. */
export type TaskPatch = Partial<
  Pick<
    TaskRecord,
    | "attempts"
    | "progress"
    | "result"
    | "error"
    | "allocation"
    | "runAt"
    | "leaseOwner"
    | "leaseExpiresAt"
    | "startedAt"
    | "finishedAt"
  >
>;

/**
 * One state change (or, with `to` equal to the current state, one status-only message such as a
 * progress update). Applied only if the task is in one of `from` (compare-and-set).
 */
export interface TaskChange {
  taskId: string;
  /**
   * The task as the caller last saw it: a record this store returned (read, or the outcome of
   * its previous change): the version the change was made from. While the stored task is still at
   * that record's sequence and state the store need not read it; if it has moved on, the change
   * is checked against the stored task as usual.
   */
  known?: TaskRecord | undefined;
  from: readonly TaskState[];
  to: TaskState;
  patch?: TaskPatch;
  status: StatusDraft;
  /**
   * Made by the holder of the task's lease, for one attempt: applied only while the task is still
   * leased to `owner` for `attempt` (the fencing token). An executor whose lease expired and was
   * given to another (or taken back by recovery) can write nothing more about the task.
   */
  holder?: LeaseHolder | undefined;
}

/**
 * Tasks that became ready to run (submitted, retry due, handed back), as the work signal carries
 * them. They may be announced before they are written, so that a start recorded for one is
 * ordered right behind its submission; `written` says which were written after all.
 */
export interface ReadyWork {
  tasks: readonly TaskRecord[];
  /**
   * Settles, once a claim or read of the store would find them, with the ids of the tasks that
   * were written: one left out was never created (its submission was a duplicate). Rejects when
   * none was written.
   */
  written: Promise<readonly string[]>;
}

/** A task the work outbox holds for the broker (distributed mode): which, and how urgent. */
export interface ReadyWorkEntry {
  taskId: string;
  priority: number;
  /** What a worker needs to decide whether it could ever take the task. */
  type: string;
  requirements: ResourceAmounts;
}

/** Work already written, as {@link ReadyWork}. */
export function writtenWork(tasks: readonly TaskRecord[]): ReadyWork {
  return { tasks, written: Promise.resolve(tasks.map((t) => t.id)) };
}

/**
 * A status another process wrote, with what observers (the dashboard's charts) need to know of
 * its task: who submitted it, of which type, when it was created and first started.
 */
export interface ObservedStatus {
  status: TaskStatus;
  submitter: string;
  type: string;
  createdAt: number;
  startedAt: number | null;
}

/** Who holds a task's lease, and for which attempt. */
export interface LeaseHolder {
  owner: string;
  attempt: number;
}

/** A task as a list shows it: the record without its parameters and result. */
export type TaskListing = Omit<TaskRecord, "parameters" | "result">;

export interface TaskListFilter {
  submitter?: string | undefined;
  state?: TaskState | undefined;
  type?: string | undefined;
  /** Matches the start of the id or reference id, or any part of the type. */
  text?: string | undefined;
  limit: number;
  /** List tasks submitted before this `submitSeq` (the cursor of the previous page). */
  beforeSeq?: number | undefined;
}

export interface AuditRecord {
  at: number;
  principal: string;
  /** The protocol message type (`submit_task`, `cancel_task`, …) or an admin action. */
  action: string;
  messageId: string | null;
  taskId: string | null;
  /** What was decided: `accepted`, `duplicate`, `rejected`, `cancelled`, `denied`, … */
  decision: string;
  payload?: unknown;
}

export interface AuditEntry extends AuditRecord {
  id: number;
}

export interface AuditFilter {
  taskId?: string | undefined;
  principal?: string | undefined;
  since?: number | undefined;
  limit: number;
  /** Oldest first (the default): the records after this id. */
  afterId?: number | undefined;
  /** Newest first instead, from the records before `beforeId` (all when unset). */
  newestFirst?: boolean | undefined;
  beforeId?: number | undefined;
}

/** A node's resources: capacity, what is allocated and free, and its tasks running and waiting. */
export interface NodeResources {
  node: string;
  capacity: ResourceAmounts;
  allocated: ResourceAmounts;
  free: ResourceAmounts;
  running: number;
  waiting: number;
}

/** What a client may know of a task type: `GET /v1/types`, `taskexec types`, the dashboard's form. */
export interface TaskTypeInfo {
  type: string;
  description: string | null;
  /** The JSON Schema of the parameters; null when the handler's schema cannot describe itself or it has none. */
  parameters_schema: Record<string, unknown> | null;
  /** Parameters that pass the schema, when the handler gives an example. */
  example: Record<string, unknown> | null;
}

/**
 * What a node records of itself at each heartbeat, where several share a store: its resources,
 * and, for the processes that run no tasks (`taskexec api`), what it runs and which run of its
 * process this is (a node id configured by hand outlives a restart; the boot id does not).
 */
export interface NodeReport extends NodeResources {
  bootId?: string;
  handlerTypes?: string[];
  types?: TaskTypeInfo[];
}

/** A node's resources as it last recorded them (its heartbeat), where several share a store. */
export interface NodeRecord extends NodeReport {
  heartbeatAt: number;
}
