import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database, { type Statement } from "better-sqlite3";
import type { SchedulingKey } from "../../engine/scheduling-order.js";
import { InvalidTransitionError, type TaskState } from "../../protocol/states.js";
import type { TaskStatus } from "../../protocol/task-status.js";
import { StaleStateError } from "../errors.js";
import type {
  AuditEntry,
  AuditFilter,
  AuditRecord,
  NewTask,
  TaskChange,
  TaskListFilter,
  TaskRecord,
} from "../records.js";
import { newRecord, planSteps, type Step } from "../change-plan.js";
import { readSqlFiles } from "../sql-files.js";
import { StateCounts } from "../state-counts.js";
import { toStatusMessage } from "../status-message.js";
import type {
  ActiveUsage,
  ChangeOptions,
  ChangeOutcome,
  InsertOptions,
  InsertOutcome,
  StoreCapabilities,
  SubmissionAudit,
  TaskStore,
} from "../task-store.js";
import { SqliteGroupCommit } from "./sqlite-group-commit.js";
import { migrateSqlite } from "./sqlite-migrator.js";
import { WalSync } from "./wal-sync.js";
import {
  type AuditRow,
  auditFromRow,
  type EventRow,
  statusFromRow,
  TASK_COLUMNS,
  type TaskRow,
  taskFromRow,
  updateParams,
} from "./sqlite-rows.js";

const QUERY_NAMES = [
  "insert_task",
  "select_task",
  "select_task_by_message",
  "update_task",
  "insert_event",
  "select_events",
  "select_latest_event",
  "select_ready",
  "select_ready_same_key",
  "select_ready_later_deadline",
  "select_ready_lower_priority",
  "select_due_retries",
  "select_overdue",
  "select_lost_leases",
  "select_lease_owners",
  "renew_leases",
  "next_wake",
  "list_tasks",
  "count_by_submitter_state",
  "insert_audit",
  "select_audit",
  "delete_finished_events",
  "delete_finished",
  "delete_old_audit",
  "active_usage",
  "queue_depth",
] as const;
type QueryName = (typeof QUERY_NAMES)[number];

/** The queries that return whole task rows: run in raw mode, read with `taskFromRow`. */
const TASK_QUERIES: ReadonlySet<QueryName> = new Set([
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
]);

const QUERIES_DIR = fileURLToPath(new URL("./queries", import.meta.url));
const NO_TIME = Number.MAX_SAFE_INTEGER;

export interface SqliteStoreOptions {
  /** A file path, or `:memory:` (tests only: nothing survives). */
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
}

/** Opens (creating if needed) a SQLite task store, migrated to the latest schema. */
export async function openSqliteTaskStore(options: SqliteStoreOptions): Promise<SqliteTaskStore> {
  if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  // Commits never sync inline: with `full`, a WalSync makes each one durable off the event loop
  // before it is announced (see wal-sync.ts); with `normal`, nothing syncs them at all.
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // Not enforced: each status insert would look its task up (~1 µs, four per task) although the
  // store only ever writes statuses of tasks it holds; deletions remove statuses explicitly.
  db.pragma("foreign_keys = OFF");
  if (options.migrate !== false) {
    if (options.path === ":memory:") throw new Error("an in-memory store cannot be migrated separately");
    const { error } = await migrateSqlite(options.path, "latest");
    if (error) {
      db.close();
      throw error instanceof Error ? error : new Error("migration failed", { cause: error });
    }
  }
  const durable = options.synchronous !== "normal" && options.path !== ":memory:";
  // Absolute: the descriptor is opened on the first sync, whatever the working directory is then.
  return new SqliteTaskStore(db, durable ? new WalSync(`${resolve(options.path)}-wal`) : undefined);
}

/** The TaskStore on one SQLite file (better-sqlite3, WAL): the embedded mode's store. */
export class SqliteTaskStore implements TaskStore {
  readonly capabilities: StoreCapabilities = { concurrentClaims: false };
  readonly #db: Database.Database;
  readonly #sql: Record<QueryName, Statement>;
  readonly #commit: SqliteGroupCommit;
  readonly #walSync: WalSync | undefined;
  /** Tasks per submitter and state, moved by each write when it commits (this is the only writer). */
  readonly #counts: StateCounts;

  /** @param walSync makes commits durable; without one they are not synced (tests, `normal`). */
  constructor(db: Database.Database, walSync?: WalSync) {
    this.#db = db;
    this.#walSync = walSync;
    const text = readSqlFiles(QUERIES_DIR, QUERY_NAMES);
    this.#sql = Object.fromEntries(
      QUERY_NAMES.map((name) => [name, prepare(db, name, text[name])]),
    ) as Record<QueryName, Statement>;
    this.#counts = new StateCounts();
    const counted = this.#sql.count_by_submitter_state.all() as {
      submitter: string;
      state: TaskState;
      n: number;
    }[];
    for (const { submitter, state, n } of counted) this.#counts.add(submitter, state, n);
    // Lost compare-and-sets and refused transitions are thrown before a write touches anything.
    this.#commit = new SqliteGroupCommit(
      db,
      (e) => e instanceof StaleStateError || e instanceof InvalidTransitionError,
      walSync && (() => walSync.sync()),
    );
  }

  insertTasks(
    tasks: readonly NewTask[],
    audit?: SubmissionAudit,
    options: InsertOptions = {},
  ): Promise<InsertOutcome[]> {
    return this.#commit.write(
      () => {
        const outcomes = tasks.map((task) => this.#insertOne(task));
        if (audit !== undefined) {
          this.#insertAudit(
            outcomes.map(({ task, created }) => ({
              at: audit.at,
              principal: audit.principal,
              action: "submit_task",
              messageId: task.messageId,
              taskId: task.id,
              decision: created ? "accepted" : "duplicate",
            })),
          );
        }
        options.onInserted?.(outcomes);
        return outcomes;
      },
      (outcomes) => {
        for (const { task, created } of outcomes)
          if (created) this.#counts.add(task.submitter, task.state, 1);
      },
    );
  }

  #insertOne(task: NewTask): InsertOutcome {
    const inserted = this.#sql.insert_task.run(
      task.id,
      task.submitter,
      task.messageId,
      task.type,
      task.state,
      task.priority,
      task.deadline,
      JSON.stringify(task.parameters),
      JSON.stringify(task.requirements),
      task.timeoutMs,
      task.maxAttempts,
      task.createdAt,
      task.createdAt,
      task.createdAt,
    );
    if (inserted.changes === 1) {
      // New: the record and its first status are what was just written; no need to read them back.
      const status = this.#insertEvent(task.id, 1, task.state, task.accepted, task.messageId);
      return { task: newRecord(task, Number(inserted.lastInsertRowid)), created: true, status };
    }
    const row = this.#sql.select_task_by_message.get({
      submitter: task.submitter,
      message_id: task.messageId,
    }) as TaskRow;
    const stored = taskFromRow(row);
    return { task: stored, created: false, status: this.#latestStatus(stored.id) };
  }

  applyChange(change: TaskChange, options: ChangeOptions = {}): Promise<ChangeOutcome> {
    let from: TaskState;
    return this.#commit.write(
      () => {
        const applied = this.#applySequence([change]);
        from = applied.from;
        return applied.outcomes[0]!;
      },
      (outcome) => {
        this.#counts.move(outcome.task.submitter, from, outcome.task.state);
        options.onCommitted?.(outcome);
      },
    );
  }

  applyChanges(changes: readonly TaskChange[]): Promise<ChangeOutcome[]> {
    let from: TaskState;
    return this.#commit.write(
      () => {
        const applied = this.#applySequence(changes);
        from = applied.from;
        return applied.outcomes;
      },
      (outcomes) => {
        const task = outcomes[outcomes.length - 1]!.task;
        this.#counts.move(task.submitter, from, task.state);
      },
    );
  }

  /**
   * Applies changes to one task in order: every compare-and-set is checked in memory before
   * anything is written (so a refusal writes nothing), then the row once and a status each.
   *
   * The first change's `known` record, when given, stands in for reading the task (the others'
   * are not needed: each change follows the one before it). The update is guarded by that
   * record's sequence and state, so if anything changed the task since, it writes nothing and the
   * changes are checked again against the stored row.
   */
  #applySequence(changes: readonly TaskChange[]): { from: TaskState; outcomes: ChangeOutcome[] } {
    const first = changes[0]!;
    if (first.known !== undefined) {
      const steps = planSteps({ ...first.known }, changes, false);
      if (steps !== undefined && this.#writeSteps(first.known, steps, changes))
        return { from: first.known.state, outcomes: this.#announceSteps(steps) };
    }
    const row = this.#sql.select_task.get({ id: first.taskId }) as TaskRow | undefined;
    if (row === undefined) throw new StaleStateError(first.taskId, first.from, undefined);
    const stored = taskFromRow(row);
    const expected = { lastSequence: stored.lastSequence, state: stored.state };
    const steps = planSteps(stored, changes, true)!;
    if (!this.#writeSteps(expected, steps, changes))
      throw new Error(`task ${first.taskId} changed while being written`);
    return { from: expected.state, outcomes: this.#announceSteps(steps) };
  }

  /** Writes the task as the last step left it, if the stored task is still as `expected` says. */
  #writeSteps(
    expected: Pick<TaskRecord, "lastSequence" | "state">,
    steps: readonly Step[],
    changes: readonly TaskChange[],
  ): boolean {
    const task = steps[steps.length - 1]!.snapshot;
    const leaseSet = changes.some((c) => c.patch?.leaseExpiresAt !== undefined);
    return this.#sql.update_task.run(updateParams(task, expected, leaseSet)).changes === 1;
  }

  #announceSteps(steps: readonly Step[]): ChangeOutcome[] {
    return steps.map(({ snapshot, draft }) => ({
      task: snapshot,
      status: this.#insertEvent(
        snapshot.id,
        snapshot.lastSequence,
        snapshot.state,
        draft,
        snapshot.messageId,
      ),
    }));
  }

  #insertEvent(
    taskId: string,
    sequence: number,
    state: TaskRecord["state"],
    draft: NewTask["accepted"],
    referenceId?: string,
  ): TaskStatus {
    this.#sql.insert_event.run(
      taskId,
      sequence,
      draft.messageId,
      state,
      draft.progress ?? null,
      draft.details === undefined ? null : JSON.stringify(draft.details),
      draft.at,
    );
    if (referenceId === undefined) return this.#latestStatus(taskId);
    return toStatusMessage({
      taskId,
      referenceId,
      sequence,
      messageId: draft.messageId,
      status: state,
      progress: draft.progress ?? null,
      details: draft.details ?? null,
      at: draft.at,
    });
  }

  #latestStatus(taskId: string): TaskStatus {
    const row = this.#sql.select_latest_event.get({ task_id: taskId }) as EventRow;
    return toStatusMessage(statusFromRow(row));
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const row = this.#sql.select_task.get({ id }) as TaskRow | undefined;
    return row && taskFromRow(row);
  }

  async getTaskByMessageId(submitter: string, messageId: string): Promise<TaskRecord | undefined> {
    const row = this.#sql.select_task_by_message.get({ submitter, message_id: messageId }) as
      TaskRow | undefined;
    return row && taskFromRow(row);
  }

  async listTasks(filter: TaskListFilter): Promise<TaskRecord[]> {
    const rows = this.#sql.list_tasks.all({
      submitter: filter.submitter ?? null,
      state: filter.state ?? null,
      type: filter.type ?? null,
      text: filter.text ?? null,
      before_seq: filter.beforeSeq ?? NO_TIME,
      limit: filter.limit,
    }) as TaskRow[];
    return rows.map(taskFromRow);
  }

  async countByState(submitter?: string): Promise<Record<string, number>> {
    return this.#counts.count(submitter);
  }

  async queueDepth(): Promise<Record<string, number>> {
    const rows = this.#sql.queue_depth.all() as { priority: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [String(r.priority), r.n]));
  }

  async activeUsage(submitter: string): Promise<ActiveUsage> {
    const row = this.#sql.active_usage.get({ submitter }) as { tasks: number; resources: string };
    return { tasks: row.tasks, resources: JSON.parse(row.resources) as Record<string, number> };
  }

  async getStatuses(taskId: string, afterSequence = 0): Promise<TaskStatus[]> {
    const rows = this.#sql.select_events.all({ task_id: taskId, after: afterSequence }) as EventRow[];
    return rows.map((row) => toStatusMessage(statusFromRow(row)));
  }

  async fetchReady(limit: number, after?: SchedulingKey): Promise<TaskRecord[]> {
    if (after === undefined) return (this.#sql.select_ready.all({ limit }) as TaskRow[]).map(taskFromRow);
    // What follows `after` in scheduling order is three consecutive index ranges; each is read
    // in index order only while the page is not full, so no rows are sorted.
    const key = {
      priority: after.priority,
      deadline_key: after.deadline ?? NO_TIME,
      submit_seq: after.submitSeq,
    };
    const rows = this.#sql.select_ready_same_key.all({ ...key, limit }) as TaskRow[];
    if (rows.length < limit)
      rows.push(
        ...(this.#sql.select_ready_later_deadline.all({ ...key, limit: limit - rows.length }) as TaskRow[]),
      );
    if (rows.length < limit)
      rows.push(
        ...(this.#sql.select_ready_lower_priority.all({
          priority: key.priority,
          limit: limit - rows.length,
        }) as TaskRow[]),
      );
    return rows.map(taskFromRow);
  }

  async fetchDueRetries(now: number, limit: number): Promise<TaskRecord[]> {
    return (this.#sql.select_due_retries.all({ now, limit }) as TaskRow[]).map(taskFromRow);
  }

  async fetchOverdue(now: number, limit: number): Promise<TaskRecord[]> {
    return (this.#sql.select_overdue.all({ now, limit }) as TaskRow[]).map(taskFromRow);
  }

  async fetchLostLeases(now: number, deadOwners: readonly string[], limit: number): Promise<TaskRecord[]> {
    const rows = this.#sql.select_lost_leases.all({
      now,
      dead_owners: JSON.stringify(deadOwners),
      limit,
    }) as TaskRow[];
    return rows.map(taskFromRow);
  }

  async leaseOwners(): Promise<string[]> {
    return (this.#sql.select_lease_owners.all() as { lease_owner: string }[]).map((r) => r.lease_owner);
  }

  renewLeases(owner: string, taskIds: readonly string[], expiresAt: number): Promise<number> {
    return this.#commit.write(
      () =>
        this.#sql.renew_leases.run({ owner, ids: JSON.stringify(taskIds), expires_at: expiresAt }).changes,
    );
  }

  async nextWakeAt(): Promise<number | null> {
    const { at } = this.#sql.next_wake.get() as { at: number };
    return at >= NO_TIME ? null : at;
  }

  appendAudit(records: readonly AuditRecord[]): Promise<void> {
    return this.#commit.write(() => this.#insertAudit(records));
  }

  #insertAudit(records: readonly AuditRecord[]): void {
    for (const r of records) {
      this.#sql.insert_audit.run(
        r.at,
        r.principal,
        r.action,
        r.messageId,
        r.taskId,
        r.decision,
        r.payload === undefined ? null : JSON.stringify(r.payload),
      );
    }
  }

  async queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const rows = this.#sql.select_audit.all({
      task_id: filter.taskId ?? null,
      principal: filter.principal ?? null,
      since: filter.since ?? null,
      after_id: filter.afterId ?? 0,
      limit: filter.limit,
    }) as AuditRow[];
    return rows.map(auditFromRow);
  }

  async deleteFinishedBefore(cutoff: number, limit: number): Promise<number> {
    const deleted = await this.#commit.write(
      () => {
        this.#sql.delete_finished_events.run({ cutoff, limit });
        const tasks = this.#sql.delete_finished.all({ cutoff, limit }) as {
          submitter: string;
          state: TaskState;
        }[];
        this.#sql.delete_old_audit.run({ cutoff, limit });
        return tasks;
      },
      (tasks) => {
        for (const { submitter, state } of tasks) this.#counts.add(submitter, state, -1);
      },
    );
    return deleted.length;
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#commit.flush();
    this.#db.close();
    await this.#walSync?.close();
  }
}

/** The prepared statement for one query file; task queries return raw rows of {@link TASK_COLUMNS}. */
function prepare(db: Database.Database, name: QueryName, text: string): Statement {
  const statement = db.prepare(text);
  if (!TASK_QUERIES.has(name)) return statement;
  const columns = statement.columns().map((c) => c.name);
  if (columns.join() !== TASK_COLUMNS.join())
    throw new Error(`${name}.sql returns columns (${columns.join(", ")}), expected those of tasks`);
  return statement.raw(true);
}
