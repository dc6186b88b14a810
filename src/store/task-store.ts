import type { SoleDuty } from "./sole-duty.js";
import type { ResealCursor, ResealStep } from "./reseal.js";
import type { SchedulingKey } from "../domain/scheduling-order.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type {
  AuditEntry,
  AuditFilter,
  AuditRecord,
  NewTask,
  NodeRecord,
  NodeReport,
  ObservedStatus,
  ReadyWork,
  ReadyWorkEntry,
  TaskChange,
  TaskListFilter,
  TaskListing,
  TaskRecord,
} from "../domain/records.js";

/** Who submitted and when, for the audit records `submitTasks` writes. */
export interface SubmissionAudit {
  principal: string;
  at: number;
}

/** What became of one submitted task: created, a duplicate of a stored one, or refused for quota. */
export type SubmissionOutcome = StoredSubmission | QuotaRefusedOutcome;

export interface StoredSubmission {
  task: TaskRecord;
  /** False when the (submitter, message_id) pair already named a task: nothing was written. */
  created: boolean;
  /** The task's latest status: the acceptance for a new task, whatever is newest for a duplicate. */
  status: TaskStatus;
  refused?: undefined;
}

/**
 * The task would take its submitter past {@link SubmissionOptions.quota}: nothing was written. (A
 * stored task with the same message id is not looked for: the caller may, to answer a duplicate.)
 */
export interface QuotaRefusedOutcome {
  created: false;
  refused: { code: "quota_exceeded"; message: string };
  task?: undefined;
  status?: undefined;
}

/** Limits on what one submitter's unfinished tasks may hold at once (SPEC §6 quotas). */
export interface SubmissionQuota {
  maxTasks?: number | undefined;
  /** Per resource kind: the most all of a submitter's unfinished tasks may ask for together. */
  maxResources?: Readonly<Record<string, number>> | undefined;
}

export interface ChangeOutcome {
  task: TaskRecord;
  status: TaskStatus;
}

/** A submitter's unfinished tasks: how many, and the resources they ask for in total. */
export interface ActiveUsage {
  tasks: number;
  resources: Record<string, number>;
}

export interface SubmissionOptions {
  /**
   * Refuses each task that would take its submitter's unfinished tasks (counting the submissions
   * still in flight, in this process or any other) past the quota. The check and the task's
   * claim on the quota are one atomic step with storing it: racing submissions never share room.
   */
  quota?: SubmissionQuota | undefined;
}

/**
 * Where a store announces the tasks each submission creates, as ready work (the work signal's
 * `ready`, wired by whoever opens the store). A store announces them as early as a change
 * recorded for them is sure to be ordered after their submission, which may be before the
 * submission is written: a start can then be recorded with it. `written` says which were created:
 * a change recorded for one that was not (its message id was taken) is refused as stale.
 * Must not throw.
 */
export type ReadyWorkSink = (work: ReadyWork) => void;

export interface ChangeOptions {
  /**
   * Called with the outcome once the change is *recorded*: it survives a crash of this process.
   * The returned promise resolves once it is *durable*: it survives a power loss too, and may be
   * announced. Lets a task's handler start while its start is made durable, still counted if the
   * handler brings the process down. Must not throw, and must announce nothing. A store whose
   * records are durable at once calls it just before resolving.
   */
  onRecorded?: ((outcome: ChangeOutcome) => void) | undefined;
}

/** An abbreviated task id: its start, and perhaps its end (`01a23b62…15ba`, as the dashboard shows ids). */
export interface IdAbbreviation {
  prefix: string;
  suffix?: string | undefined;
  /** Only this submitter's tasks. */
  submitter?: string | undefined;
}

/** What a backend can do; the engine asks these instead of checking which backend it has. */
export interface StoreCapabilities {
  /**
   * Several processes may write this store at once: their writes reach this one only through the
   * work signal and the status feed, and may be missed, so the engine also looks for them by polling.
   */
  readonly concurrentClaims: boolean;
}

/**
 * The TaskStore port: tasks, the per-task status log, idempotency keys, leases and the audit trail.
 *
 * Writes are durable when their promise resolves, and not before: callers announce a change only
 * after that. How a backend gets there (one transaction per event-loop turn, a statement per
 * batch) is its own business. `test/contract/task-store.contract.ts` is the definition of this port.
 */
/** A task that ended: the key of its last status, and when it ended. */
export interface EndedTask {
  taskId: string;
  sequence: number;
  endedAt: number;
}

export interface TaskStore {
  readonly capabilities: StoreCapabilities;

  /**
   * Stores each task unless its (submitter, message_id) names one already, all or none. With
   * `audit`, the same write records each submission's decision (`accepted` or `duplicate`) with
   * its task, so that no acceptance is announced without its audit record. The created tasks are
   * announced as ready work (see {@link ReadyWorkSink}).
   */
  submitTasks(
    tasks: readonly NewTask[],
    audit?: SubmissionAudit,
    options?: SubmissionOptions & { quota?: undefined },
  ): Promise<StoredSubmission[]>;
  submitTasks(
    tasks: readonly NewTask[],
    audit: SubmissionAudit | undefined,
    options: SubmissionOptions,
  ): Promise<SubmissionOutcome[]>;

  /**
   * Records one change (a state change, a progress update, an outcome). Rejects with `StaleStateError` when the task is not in `change.from`,
   * with `InvalidTransitionError` when the protocol forbids the transition.
   */
  recordChange(change: TaskChange, options?: ChangeOptions): Promise<ChangeOutcome>;

  /**
   * Records several changes to one task, in order, atomically: all or none (a refused
   * compare-and-set anywhere refuses the lot). Each gets its own status and sequence.
   */
  recordChanges(changes: readonly TaskChange[]): Promise<ChangeOutcome[]>;

  getTask(id: string): Promise<TaskRecord | undefined>;
  getTaskByMessageId(submitter: string, messageId: string): Promise<TaskRecord | undefined>;
  /** Newest first; listings only (no parameters, no results: those can be large). */
  listTasks(filter: TaskListFilter): Promise<TaskListing[]>;
  /** The ids (in id order, at most `limit`) that an abbreviated id may stand for. */
  findTaskIds(abbreviation: IdAbbreviation, limit: number): Promise<string[]>;
  /** Tasks per state: all, or one submitter's. */
  countByState(submitter?: string): Promise<Record<string, number>>;
  /** Ready tasks per priority. */
  queueDepth(): Promise<Record<string, number>>;
  /** For quotas: the submitter's unfinished tasks and their requirements summed per kind. */
  activeUsage(submitter: string): Promise<ActiveUsage>;

  /** Status messages of a task with `sequence > afterSequence`, in order. */
  getStatuses(taskId: string, afterSequence?: number): Promise<TaskStatus[]>;

  /**
   * Ready tasks (`resource_allocation`), best first: priority desc, deadline asc, then FIFO;
   * with `after`, only those that come after that key (a keyset page, for frontier refills).
   */
  fetchReady(limit: number, after?: SchedulingKey): Promise<TaskRecord[]>;
  /**
   * Claims for `owner`, until `until`, the best ready tasks (at most `limit`) that no claim holds,
   * best first. A claim keeps other processes' claims off a task so that they do not all race for
   * the same ones; it is a reservation, not a start (the start is the change that counts, checked
   * as always). A claim that lapsed holds its task until `releaseLapsedClaims` frees it (every
   * process's sweep does): looking for lapsed claims on every claim costs more than the claim.
   * Only stores with `concurrentClaims` have it.
   */
  claimReady?(owner: string, limit: number, until: number): Promise<TaskRecord[]>;
  /**
   * Claims for `owner`, until `until`, those of `taskIds` that are ready and that no live claim of
   * another owner holds, best first (a worker told of these tasks by the broker). A task that
   * finished, runs, or is claimed elsewhere is left out: the message that named it is stale.
   * Only stores with `concurrentClaims` have it.
   */
  claimTasks?(owner: string, taskIds: readonly string[], now: number, until: number): Promise<TaskRecord[]>;
  /**
   * Gives back `owner`'s claims on tasks it has not started: these, or all of them. A store opened
   * for distributed mode hands them to the work relay again.
   */
  releaseClaims?(owner: string, taskIds?: readonly string[]): Promise<void>;
  /**
   * Gives back claims on ready tasks that lapsed (their holder stopped renewing them: it died), so
   * that they are claimed again, and, opened for distributed mode, hands the tasks to the work
   * relay again; resolves to how many.
   */
  releaseLapsedClaims?(now: number, limit: number): Promise<number>;
  /**
   * Rejects when the store's schema is not the one this version knows (a `migrate down` ran under
   * a live process): readiness fails instead of every request. Only stores other processes may
   * migrate under this one have it.
   */
  checkSchema?(): Promise<void>;
  /**
   * Takes up to `wanted` submissions from `principal`'s allowance (`perMinute` a minute, in bursts
   * of as many), counted for every process sharing the store; resolves to how many it granted and,
   * when fewer than wanted, how long until the next one. Only stores shared by several processes
   * have it (a store of one process leaves the count to that process).
   */
  takeSubmitAllowance?(
    principal: string,
    wanted: number,
    perMinute: number,
    now: number,
  ): Promise<{ granted: number; waitMs: number }>;
  /**
   * Hands to the work relay again, at most `limit`, the ready tasks no one has claimed that last
   * changed before `before` (the broker is a transport, not the record: their message may be lost,
   * or held by a consumer that does not run it); resolves to how many. Only a store opened for
   * distributed mode does anything.
   */
  reannounceReady?(now: number, before: number, limit: number): Promise<number>;
  /** `waiting` tasks with no lease whose retry time has come. */
  fetchDueRetries(now: number, limit: number): Promise<TaskRecord[]>;
  /** Queued (`resource_allocation`, `waiting`) tasks whose deadline has passed. */
  fetchOverdue(now: number, limit: number): Promise<TaskRecord[]>;
  /** Leased tasks whose lease expired, or whose owner is one of `deadOwners`. */
  fetchLostLeases(now: number, deadOwners: readonly string[], limit: number): Promise<TaskRecord[]>;
  /** Owners holding a lease now (to find the dead ones among them). */
  leaseOwners(): Promise<string[]>;
  /** Extends the leases `owner` holds on `taskIds`; resolves to how many it still held. */
  renewLeases(owner: string, taskIds: readonly string[], expiresAt: number): Promise<number>;
  /** The earliest moment at which a retry falls due, a queued deadline passes, or a lease expires. */
  nextWakeAt(): Promise<number | null>;

  appendAudit(records: readonly AuditRecord[]): Promise<void>;
  queryAudit(filter: AuditFilter): Promise<AuditEntry[]>;
  /**
   * One step of resealing the stored values under the current data key (`taskexec keys rotate
   * --data`): up to `limit` rows after `cursor` (null: from the start) are rewritten; the step
   * says where to go on, or null when everything is sealed under the current key.
   */
  resealStored(cursor: ResealCursor | null, limit: number): Promise<ResealStep>;

  /** Removes terminal tasks (and their statuses) finished before `cutoff`, and older audit records. */
  deleteFinishedBefore(cutoff: number, limit: number): Promise<number>;

  /**
   * Records this node's resources as of `at` (its heartbeat), so that every process sharing the
   * store can list the whole cluster; nodes silent for a day are forgotten. With `undefined`, the
   * node stopped and is removed. Only stores with `concurrentClaims` have it.
   */
  recordNode?(node: string, report: NodeReport | undefined, at: number): Promise<void>;
  /** Every node's last recorded resources and heartbeat. */
  listNodes?(): Promise<NodeRecord[]>;

  /**
   * Hands the ready work the outbox holds (a store opened for distributed mode writes an entry in
   * the same write that makes a task ready) to `send`, oldest first, at most `limit` entries, and
   * removes them once `send` resolves (the broker confirmed them). Entries another process is
   * handing over meanwhile are skipped. When `send` fails, or the process dies first, they stay
   * and are handed over again: the broker may carry one twice, and workers drop what they cannot
   * claim. Resolves to how many were handed over. Only stores with `concurrentClaims` have it.
   */
  forwardReadyWork?(
    limit: number,
    send: (entries: readonly ReadyWorkEntry[]) => Promise<void>,
  ): Promise<number>;

  /**
   * These statuses (task id, sequence), in the order asked, each with its task's facts (for the
   * processes that hear of them through a status feed). Only stores with `concurrentClaims` have it.
   */
  observeStatuses?(keys: readonly (readonly [string, number])[]): Promise<ObservedStatus[]>;
  /**
   * The last status (task id, sequence) of each task that ended in [`from`, `until`), oldest end
   * first, with when it ended: what a process that died may have written and not announced.
   * Only stores with `concurrentClaims` have it.
   */
  endedBetween?(from: number, until: number, limit: number): Promise<EndedTask[]>;

  /**
   * Takes the duty `name` for this process, or its place in line for it (see SoleDuty): among
   * the processes sharing this store, at most one holds a duty at a time; a waiting one tries
   * again every `retryMs` and holds it within that once the holder releases it or dies.
   */
  soleDuty(name: string, retryMs: number): Promise<SoleDuty>;

  close(): Promise<void>;
}
