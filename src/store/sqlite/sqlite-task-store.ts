import { LocalDuties, type SoleDuty } from "../sole-duty.js";
import {
  type ResealColumns,
  type ResealCursor,
  type ResealStep,
  resealStep,
  type SealedRowsAccess,
} from "../reseal.js";
import { CLEAR, type ValueSeal } from "../sealed-values.js";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { SchedulingKey } from "../../domain/scheduling-order.js";
import { isTerminal, type TaskState } from "../../protocol/states.js";
import type { TaskStatus } from "../../protocol/task-status.js";
import { ActiveUsageLedger } from "../active-usage.js";
import { acceptedStatus, newRecord } from "../change-plan.js";
import { ChangePlanner, type PlannedChange, type WriteAnswer } from "../change-planner.js";
import type {
  AuditEntry,
  AuditFilter,
  AuditRecord,
  NewTask,
  TaskChange,
  TaskListFilter,
  TaskListing,
  TaskRecord,
} from "../../domain/records.js";
import type { MigrationProgress } from "../migration-status.js";
import { readSqlFiles } from "../sql-files.js";
import { StoreSchemaError } from "../errors.js";
import { StateCounts } from "./state-counts.js";
import { toStatusMessage } from "../status-message.js";
import type {
  ActiveUsage,
  ChangeOptions,
  ChangeOutcome,
  StoredSubmission,
  IdAbbreviation,
  SubmissionOptions,
  SubmissionOutcome,
  StoreCapabilities,
  SubmissionAudit,
  ReadyWorkSink,
  TaskStore,
} from "../task-store.js";
import { submittedWork } from "../ready-work.js";
import { SqliteConnection } from "./sqlite-connection.js";
import { makePrivateDatabaseFile } from "./private-files.js";
import { lockSqliteFile, type SqliteFileLock } from "./sqlite-file-lock.js";
import { migrateSqlite, sqliteMigrationNames, appliedSqliteMigrations } from "./sqlite-migrator.js";
import {
  type AuditRow,
  auditOwner,
  type EventRow,
  RowReader,
  sealedJson,
  TASK_COLUMNS,
  type TaskRow,
} from "../stored-rows.js";
import { ALL, GET, RUN, type Read } from "./sqlite-worker-messages.js";
import { encodeChange, encodeInsert, encodeStep } from "./sqlite-write-encoding.js";
import { WalSync } from "./wal-sync.js";

const QUERY_NAMES = [
  "insert_task",
  "select_task",
  "select_task_by_message",
  "update_task",
  "insert_event",
  "select_events",
  "select_latest_event",
  "select_latest_event_by_message",
  "select_ready",
  "select_ready_same_key",
  "select_ready_later_deadline",
  "select_ready_lower_priority",
  "select_due_retries",
  "select_overdue",
  "select_lost_leases",
  "select_lease_owners",
  "select_last_submit_seq",
  "renew_leases",
  "next_wake",
  "list_tasks",
  "find_task_ids",
  "count_by_submitter_state",
  "insert_audit",
  "insert_duplicate_audit",
  "select_audit",
  "select_audit_newest",
  "delete_finished_events",
  "delete_finished",
  "delete_old_audit",
  "active_usage_by_submitter",
  "queue_depth",
  "select_reseal_tasks",
  "reseal_task",
  "select_reseal_statuses",
  "reseal_status",
  "select_reseal_audit",
  "reseal_audit",
] as const;
type QueryName = (typeof QUERY_NAMES)[number];

/** Each query's index in the worker's statement list. */
const Q = Object.fromEntries(QUERY_NAMES.map((name, index) => [name, index])) as Record<QueryName, number>;

/** The queries that return whole task rows: run in raw mode, read with `taskFromRow`. */
const TASK_QUERIES: readonly QueryName[] = [
  "select_task",
  "select_task_by_message",
  "select_ready",
  "select_ready_same_key",
  "select_ready_later_deadline",
  "select_ready_lower_priority",
  "select_due_retries",
  "select_overdue",
  "select_lost_leases",
  "list_tasks",
];

const QUERIES_DIR = fileURLToPath(new URL("./queries", import.meta.url));
const NO_TIME = Number.MAX_SAFE_INTEGER;

export interface SqliteStoreOptions {
  /** The database file's path. */
  path: string;
  /**
   * How durable a commit is before it is announced. `full` (the default): it survives a power
   * loss (the WAL is synced, off the event loop, first). `normal`: it survives a crash of the
   * process, but a power loss may take back the last announced commits. Either way the
   * connection's `synchronous` pragma is `NORMAL`; see wal-sync.ts.
   * @default "full"
   */
  synchronous?: "full" | "normal";
  /** Run pending migrations on open. @default true */
  migrate?: boolean;
  /** Told of the migrations run on open. */
  onMigrated?: ((progress: MigrationProgress) => void) | undefined;
  /** Where new tasks are announced as ready work, as soon as a start may join their write. */
  onReady?: ReadyWorkSink | undefined;
  /** How values that may be secret are kept (encryption at rest). @default in clear */
  seal?: ValueSeal | undefined;
}

/** Opens (creating if needed) a SQLite task store, migrated to the latest schema. */
export async function openSqliteTaskStore(options: SqliteStoreOptions): Promise<SqliteTaskStore> {
  makePrivateDatabaseFile(options.path);
  // One writer per file: a second process would number tasks and count states on its own.
  const lock = lockSqliteFile(options.path);
  try {
    return await openLocked(options, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function openLocked(options: SqliteStoreOptions, lock: SqliteFileLock): Promise<SqliteTaskStore> {
  const known = sqliteMigrationNames();
  const applied = appliedSqliteMigrations(options.path).map((m) => m.name);
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new StoreSchemaError(options.path, unknown);
  if (options.migrate !== false && applied.length < known.length) {
    const { error, results } = await migrateSqlite(options.path, "latest");
    if (error) throw error instanceof Error ? error : new Error("migration failed", { cause: error });
    const done = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
    options.onMigrated?.({ from: applied[applied.length - 1], applied: done });
  }
  const text = readSqlFiles(QUERIES_DIR, QUERY_NAMES);
  const connection = await SqliteConnection.open({
    path: options.path,
    statements: QUERY_NAMES.map((name) => text[name]),
    taskQueries: TASK_QUERIES.map((name) => Q[name]),
    taskColumns: TASK_COLUMNS,
    ops: {
      insertTask: Q.insert_task,
      insertEvent: Q.insert_event,
      insertAudit: Q.insert_audit,
      insertDuplicateAudit: Q.insert_duplicate_audit,
      selectTaskByMessage: Q.select_task_by_message,
      selectLatestEventByMessage: Q.select_latest_event_by_message,
      updateTask: Q.update_task,
      selectTask: Q.select_task,
    },
    // Absolute: the descriptor is opened on the first sync, whatever the working directory is then.
    sync: options.synchronous === "normal" ? undefined : new WalSync(`${resolve(options.path)}-wal`),
  });
  const counted = await connection.read<{ submitter: string; state: TaskState; n: number }[]>([
    Q.count_by_submitter_state,
    [],
    ALL,
  ]);
  const { seq } = await connection.read<{ seq: number }>([Q.select_last_submit_seq, [], GET]);
  const active = await connection.read<{ submitter: string; tasks: number; resources: string | null }[]>([
    Q.active_usage_by_submitter,
    [],
    ALL,
  ]);
  const usage = new ActiveUsageLedger();
  for (const row of active)
    usage.load(row.submitter, row.tasks, JSON.parse(row.resources ?? "{}") as Record<string, number>);
  return new SqliteTaskStore(connection, counted, seq, usage, lock, options.onReady, options.seal ?? CLEAR);
}

/**
 * The TaskStore on one SQLite file (better-sqlite3, WAL): the embedded mode's store.
 *
 * The statements run on a worker thread (see SqliteConnection); this side plans every change in
 * memory and sends only the rows to write, each change guarded by the sequence and state it was
 * planned from. The store is the only writer of its file, so it also numbers new tasks itself
 * and counts the tasks per state as its writes commit.
 */
export class SqliteTaskStore implements TaskStore {
  readonly capabilities: StoreCapabilities = { concurrentClaims: false };
  readonly #duties = new LocalDuties();
  readonly #db: SqliteConnection;
  /** Tasks per submitter and state, moved by each write when it commits. */
  readonly #counts = new StateCounts();
  /** The last submission number given out. */
  #lastSeq: number;
  /** Submissions queued and not yet committed: a second one with the same key is a duplicate. */
  readonly #queuedKeys = new Set<string>();
  /** Plans each change in memory and writes it after the task's writes in flight. */
  readonly #planner = new ChangePlanner({
    write: (planned, answer) => this.#writePlanned(planned, answer),
    read: (id) => this.getTask(id),
    committed: (from, outcomes) => this.#committed(from, outcomes),
  });
  /** Each submitter's unfinished tasks and their requirements, for quotas. */
  readonly #usage: ActiveUsageLedger;
  /** This process's claim to the file, released when the store closes. */
  readonly #lock: SqliteFileLock;
  /**
   * Told of new tasks as soon as their insert is queued, before it commits: a start queued then
   * goes into the insert's transaction, one commit from submit to handler instead of two.
   */
  readonly #onReady: ReadyWorkSink | undefined;
  /** Reads rows into records, opening the sealed values (and seals them on the way in). */
  readonly #rows: RowReader;

  /** @internal use {@link openSqliteTaskStore}. */
  constructor(
    connection: SqliteConnection,
    counted: readonly { submitter: string; state: TaskState; n: number }[],
    lastSeq: number,
    usage: ActiveUsageLedger,
    lock: SqliteFileLock,
    onReady: ReadyWorkSink | undefined,
    seal: ValueSeal,
  ) {
    this.#rows = new RowReader(seal);
    this.#onReady = onReady;
    this.#db = connection;
    this.#usage = usage;
    this.#lock = lock;
    for (const { submitter, state, n } of counted) this.#counts.add(submitter, state, n);
    this.#lastSeq = lastSeq;
  }

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
  submitTasks(
    tasks: readonly NewTask[],
    audit?: SubmissionAudit,
    options: SubmissionOptions = {},
  ): Promise<SubmissionOutcome[]> {
    /** The tasks to write; a task over its submitter's quota is answered here and never written. */
    const admitted: NewTask[] = [];
    /** Whether each admitted task holds a quota reservation (a queued duplicate does not). */
    const reserved: boolean[] = [];
    /** The outcome of each task refused for quota, by its index in `tasks`. */
    const refusals = new Map<number, SubmissionOutcome>();
    /** The tasks this insert expects to create: those whose key no insert before it holds. */
    const expected: TaskRecord[] = [];
    const keys: string[] = [];
    const records: TaskRecord[] = [];
    for (const [i, task] of tasks.entries()) {
      const key = `${task.submitter}\u0000${task.messageId}`;
      const queued = this.#queuedKeys.has(key);
      if (!queued && options.quota !== undefined) {
        const refusal = this.#usage.reserve(task.submitter, task.requirements, options.quota);
        if (refusal !== undefined) {
          refusals.set(i, { created: false, refused: { code: "quota_exceeded", message: refusal } });
          continue;
        }
      }
      const record = newRecord(task, ++this.#lastSeq);
      admitted.push(task);
      records.push(record);
      reserved.push(!queued && options.quota !== undefined);
      if (queued) continue;
      this.#queuedKeys.add(key);
      keys.push(key);
      expected.push(record);
    }
    const forget = () => {
      for (const key of keys) this.#queuedKeys.delete(key);
    };
    const written =
      admitted.length === 0
        ? Promise.resolve<SubmissionOutcome[]>([])
        : this.#db.write(
            (tape) => {
              tape.push(admitted.length);
              for (const [i, task] of admitted.entries())
                encodeInsert(tape, records[i]!.submitSeq, task, audit, this.#rows.seal);
            },
            (results, at) => {
              forget();
              return admitted.map((task, i): SubmissionOutcome => {
                const created = results[at++] === 1;
                this.#usage.inserted(task.submitter, task.requirements, reserved[i]!, created);
                if (created) {
                  this.#counts.add(task.submitter, task.state, 1);
                  return { task: records[i]!, created: true, status: acceptedStatus(task) };
                }
                // Taken already: the worker read the stored task and its newest status instead.
                const stored = this.#rows.task(results[at++] as TaskRow);
                const status = toStatusMessage(this.#rows.status(results[at++] as EventRow));
                return { task: stored, created: false, status };
              });
            },
          );
    written.catch(() => {
      forget();
      for (const [i, task] of admitted.entries())
        if (reserved[i]) this.#usage.abandoned(task.submitter, task.requirements);
    });
    if (expected.length > 0 && this.#onReady !== undefined)
      this.#onReady(
        submittedWork(
          expected,
          written.then((os) => os.flatMap((o) => (o.created ? [o.task.id] : []))),
        ),
      );
    if (refusals.size === 0) return written;
    return written.then((outcomes) => {
      let next = 0;
      return tasks.map((_, i) => refusals.get(i) ?? outcomes[next++]!);
    });
  }

  recordChange(change: TaskChange, options: ChangeOptions = {}): Promise<ChangeOutcome> {
    return this.#planner.apply([change], first, options.onRecorded);
  }

  recordChanges(changes: readonly TaskChange[]): Promise<ChangeOutcome[]> {
    return this.#planner.apply(changes, all);
  }

  /**
   * The SQLite side of the ChangePlanner: one row update guarded by the sequence and state it was
   * planned from, with a status row each. A refused write reads the stored task in the same
   * worker turn, so it is planned again without another round trip.
   */
  #writePlanned<T>(planned: PlannedChange, answer: (outcome: WriteAnswer) => T | Promise<T>): Promise<T> {
    return this.#db.write(
      (tape) => {
        tape.push(1);
        encodeChange(tape, planned.from, planned.steps, planned.changes, this.#rows.seal);
      },
      (results, at) => {
        if (results[at] !== 0) return answer({ written: true });
        const row = results[at + 1] as TaskRow | undefined;
        return answer({ written: false, stored: row && this.#rows.task(row) });
      },
    );
  }

  #committed(from: TaskRecord, outcomes: readonly ChangeOutcome[]): void {
    const last = outcomes[outcomes.length - 1]!.task;
    this.#counts.move(last.submitter, from.state, last.state);
    if (!isTerminal(from.state) && isTerminal(last.state))
      this.#usage.finished(last.submitter, last.requirements);
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = await this.#db.read<TaskRow | undefined>([Q.select_task, { id }, GET]);
    return row && this.#rows.task(row);
  }

  async getTaskByMessageId(submitter: string, messageId: string): Promise<TaskRecord | undefined> {
    const row = await this.#db.read<TaskRow | undefined>([
      Q.select_task_by_message,
      { submitter, message_id: messageId },
      GET,
    ]);
    return row && this.#rows.task(row);
  }

  async listTasks(filter: TaskListFilter): Promise<TaskListing[]> {
    const params = {
      submitter: filter.submitter ?? null,
      state: filter.state ?? null,
      type: filter.type ?? null,
      text: filter.text ?? null,
      before_seq: filter.beforeSeq ?? NO_TIME,
      limit: filter.limit,
    };
    return this.#tasks([Q.list_tasks, params, ALL]);
  }

  async findTaskIds(abbreviation: IdAbbreviation, limit: number): Promise<string[]> {
    const rows = await this.#db.read<{ id: string }[]>([
      Q.find_task_ids,
      {
        lo: abbreviation.prefix,
        hi: `${abbreviation.prefix}\uffff`,
        suffix: abbreviation.suffix ?? null,
        submitter: abbreviation.submitter ?? null,
        limit,
      },
      ALL,
    ]);
    return rows.map((row) => row.id);
  }

  async countByState(submitter?: string): Promise<Record<string, number>> {
    return this.#counts.count(submitter);
  }

  async queueDepth(): Promise<Record<string, number>> {
    const rows = await this.#db.read<{ priority: number; n: number }[]>([Q.queue_depth, [], ALL]);
    return Object.fromEntries(rows.map((r) => [String(r.priority), r.n]));
  }

  async activeUsage(submitter: string): Promise<ActiveUsage> {
    return this.#usage.usage(submitter);
  }

  async getStatuses(taskId: string, afterSequence = 0): Promise<TaskStatus[]> {
    const rows = await this.#db.read<EventRow[]>([
      Q.select_events,
      { task_id: taskId, after: afterSequence },
      ALL,
    ]);
    return rows.map((row) => toStatusMessage(this.#rows.status(row)));
  }

  async fetchReady(limit: number, after?: SchedulingKey): Promise<TaskRecord[]> {
    if (after === undefined) return this.#tasks([Q.select_ready, { limit }, ALL]);
    // What follows `after` in scheduling order is three consecutive index ranges; each is read
    // in index order only while the page is not full, so no rows are sorted.
    const key = {
      priority: after.priority,
      deadline_key: after.deadline ?? NO_TIME,
      submit_seq: after.submitSeq,
    };
    const rows = await this.#db.read<TaskRow[]>([Q.select_ready_same_key, { ...key, limit }, ALL]);
    if (rows.length < limit)
      rows.push(
        ...(await this.#db.read<TaskRow[]>([
          Q.select_ready_later_deadline,
          { ...key, limit: limit - rows.length },
          ALL,
        ])),
      );
    if (rows.length < limit)
      rows.push(
        ...(await this.#db.read<TaskRow[]>([
          Q.select_ready_lower_priority,
          { priority: key.priority, limit: limit - rows.length },
          ALL,
        ])),
      );
    return rows.map(this.#rows.task);
  }

  fetchDueRetries(now: number, limit: number): Promise<TaskRecord[]> {
    return this.#tasks([Q.select_due_retries, { now, limit }, ALL]);
  }

  fetchOverdue(now: number, limit: number): Promise<TaskRecord[]> {
    return this.#tasks([Q.select_overdue, { now, limit }, ALL]);
  }

  fetchLostLeases(now: number, deadOwners: readonly string[], limit: number): Promise<TaskRecord[]> {
    return this.#tasks([Q.select_lost_leases, { now, dead_owners: JSON.stringify(deadOwners), limit }, ALL]);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.#db.read<{ lease_owner: string }[]>([Q.select_lease_owners, [], ALL]);
    return rows.map((r) => r.lease_owner);
  }

  renewLeases(owner: string, taskIds: readonly string[], expiresAt: number): Promise<number> {
    const params = { owner, ids: JSON.stringify(taskIds), expires_at: expiresAt };
    return this.#db.write(
      (tape) => {
        tape.push(1);
        encodeStep(tape, Q.renew_leases, params, RUN);
      },
      (results, at) => results[at] as number,
    );
  }

  async nextWakeAt(): Promise<number | null> {
    const { at } = await this.#db.read<{ at: number }>([Q.next_wake, [], GET]);
    return at >= NO_TIME ? null : at;
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    await this.#db.write(
      (tape) => {
        tape.push(records.length);
        for (const r of records) encodeStep(tape, Q.insert_audit, auditParams(r, this.#rows.seal), RUN);
      },
      () => undefined,
    );
  }

  resealStored(cursor: ResealCursor | null, limit: number): Promise<ResealStep> {
    return resealStep(this.#sealedRows, this.#rows.seal, cursor, limit);
  }

  /** The reads and compare-and-set writes of a reseal (store/reseal.ts), in this store's statements. */
  readonly #sealedRows: SealedRowsAccess = {
    read: (stage, after, limit, prefix) => {
      if (stage === "statuses") {
        const [task, sequence] = (after as [string, number] | null) ?? ["", -1];
        return this.#db.read<ResealColumns[]>([
          Q.select_reseal_statuses,
          { after_task: task, after_sequence: sequence, prefix, limit },
          ALL,
        ]);
      }
      const query = stage === "tasks" ? Q.select_reseal_tasks : Q.select_reseal_audit;
      return this.#db.read<ResealColumns[]>([query, { after: after ?? 0, prefix, limit }, ALL]);
    },
    rewrite: (stage, rewrites) =>
      this.#db.write(
        (tape) => {
          tape.push(rewrites.length);
          for (const { row, values } of rewrites) {
            if (stage === "tasks") {
              const [parameters, result, error] = values;
              const [oldParameters, oldResult, oldError] = row.values;
              encodeStep(
                tape,
                Q.reseal_task,
                {
                  id: row.owner,
                  parameters,
                  result,
                  error,
                  old_parameters: oldParameters,
                  old_result: oldResult,
                  old_error: oldError,
                },
                RUN,
              );
            } else if (stage === "statuses") {
              const [taskId, sequence] = row.key as [string, number];
              encodeStep(
                tape,
                Q.reseal_status,
                { task_id: taskId, sequence, details: values[0], old_details: row.values[0] },
                RUN,
              );
            } else
              encodeStep(
                tape,
                Q.reseal_audit,
                { id: row.key, payload: values[0], old_payload: row.values[0] },
                RUN,
              );
          }
        },
        (results, at) => {
          let written = 0;
          for (let i = 0; i < rewrites.length; i++) written += results[at + i] as number;
          return written;
        },
      ),
  };

  async queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const params = {
      task_id: filter.taskId ?? null,
      principal: filter.principal ?? null,
      since: filter.since ?? null,
      limit: filter.limit,
    };
    const read: Read = filter.newestFirst
      ? [Q.select_audit_newest, { ...params, before_id: filter.beforeId ?? NO_TIME }, ALL]
      : [Q.select_audit, { ...params, after_id: filter.afterId ?? 0 }, ALL];
    return (await this.#db.read<AuditRow[]>(read)).map(this.#rows.audit);
  }

  deleteFinishedBefore(cutoff: number, limit: number): Promise<number> {
    const params = { cutoff, limit };
    return this.#db.write(
      (tape) => {
        tape.push(3);
        encodeStep(tape, Q.delete_finished_events, params, RUN);
        encodeStep(tape, Q.delete_finished, params, ALL);
        encodeStep(tape, Q.delete_old_audit, params, RUN);
      },
      (results, at) => {
        const tasks = results[at + 1] as { submitter: string; state: TaskState }[];
        for (const { submitter, state } of tasks) this.#counts.add(submitter, state, -1);
        return tasks.length;
      },
    );
  }

  soleDuty(name: string): Promise<SoleDuty> {
    return Promise.resolve(this.#duties.take(name));
  }

  async close(): Promise<void> {
    try {
      await this.#db.close();
    } finally {
      this.#lock.release();
    }
  }

  async #tasks(read: Read): Promise<TaskRecord[]> {
    return (await this.#db.read<TaskRow[]>(read)).map(this.#rows.task);
  }
}

const first = <T>(items: T[]): T => items[0]!;
const all = <T>(items: T[]): T[] => items;

function auditParams(r: AuditRecord, seal: ValueSeal): unknown[] {
  const payload = sealedJson(seal, r.payload, auditOwner(r.taskId, r.principal));
  return [r.at, r.principal, r.action, r.messageId, r.taskId, r.decision, payload];
}
