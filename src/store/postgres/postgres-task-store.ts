import { SessionLock } from "./session-lock.js";
import type { SoleDuty } from "../sole-duty.js";
import { type ResealCursor, type ResealStep, resealStep, type SealedRowsAccess } from "../reseal.js";
import { CLEAR, type ValueSeal } from "../sealed-values.js";
import type pg from "pg";
import { appliedPostgresMigrations, postgresMigrationNames } from "./postgres-migrator.js";
import { compareSchedulingKeys, type SchedulingKey } from "../../domain/scheduling-order.js";
import type { TaskStatus } from "../../protocol/task-status.js";
import { ActiveUsageLedger } from "../active-usage.js";
import { acceptedStatus, newRecord } from "../change-plan.js";
import { ChangePlanner } from "../change-planner.js";
import type {
  AuditEntry,
  AuditFilter,
  AuditRecord,
  NewTask,
  NodeRecord,
  NodeReport,
  TaskChange,
  TaskListFilter,
  TaskListing,
  ObservedStatus,
  ReadyWorkEntry,
  ResourceAmounts,
  TaskRecord,
} from "../../domain/records.js";
import {
  type AuditRow,
  auditOwner,
  type EventRow,
  RowReader,
  sealedJson,
  type TaskRow,
} from "../stored-rows.js";
import { submittedWork } from "../ready-work.js";
import { toStatusMessage } from "../status-message.js";
import type {
  ActiveUsage,
  ChangeOptions,
  ChangeOutcome,
  IdAbbreviation,
  StoredSubmission,
  SubmissionOptions,
  SubmissionOutcome,
  StoreCapabilities,
  SubmissionAudit,
  SubmissionQuota,
  TaskStore,
  EndedTask,
  ReadyWorkSink,
} from "../task-store.js";
import type { InsertRow } from "./postgres-params.js";
import { insertParams } from "./postgres-params.js";
import type { PostgresQueries } from "./postgres-queries.js";
import { PostgresWriteLane } from "./postgres-write-lane.js";
import { SubmitNumbers } from "./submit-numbers.js";

const NO_TIME = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

/**
 * The TaskStore on a PostgreSQL database that any number of processes share (the shared-database
 * and distributed modes).
 *
 * Writes go through a write lane (group commit: one statement per kind for a turn's writes, see
 * PostgresWriteLane); changes are planned in memory and written guarded by the sequence they
 * were planned from, so a change another process made first refuses the write and the change is
 * planned again from the stored task. Counts are queries, not memory: other processes write too.
 */
export class PostgresTaskStore implements TaskStore {
  readonly capabilities: StoreCapabilities = { concurrentClaims: true };
  readonly #pool: pg.Pool;
  readonly #q: PostgresQueries;
  readonly #lane: PostgresWriteLane;
  readonly #numbers: SubmitNumbers;
  readonly #node: string;
  /** Submissions of this process queued and not yet written: a second one with the same key is a duplicate. */
  readonly #queuedKeys = new Set<string>();
  readonly #planner = new ChangePlanner({
    write: (planned, answer) => this.#lane.change(planned).then(answer),
    // In the lane: the planner's reads of a task are answered in order with its writes.
    read: (id) => this.#lane.read(id),
    committed: () => {},
  });

  /** Told of new tasks as soon as their insert is queued: a start queued then goes in the next statement. */
  readonly #onReady: ReadyWorkSink | undefined;
  /** Ready work also goes to the work outbox, for the broker (distributed mode). */
  readonly #outbox: boolean;
  /** Reads rows into records, opening the sealed values (and seals them on the way in). */
  readonly #rowReader: RowReader;
  readonly #url: string;
  readonly #onConnectionError: ((error: Error) => void) | undefined;
  /** The duties taken through this store, released when it closes. */
  readonly #duties = new Set<SoleDuty>();

  /** @internal use openPostgresTaskStore. */
  constructor(
    pool: pg.Pool,
    queries: PostgresQueries,
    options: {
      node: string;
      /** Where the database is, for the sessions a duty holds (see soleDuty). */
      url: string;
      onConnectionError?: ((error: Error) => void) | undefined;
      onReady?: ReadyWorkSink | undefined;
      outbox?: boolean | undefined;
      seal?: ValueSeal | undefined;
    },
  ) {
    this.#rowReader = new RowReader(options.seal ?? CLEAR);
    this.#url = options.url;
    this.#onConnectionError = options.onConnectionError;
    this.#outbox = options.outbox ?? false;
    this.#onReady = options.onReady;
    // The node names its notifications, whose payload is space-separated (see readNotice): the
    // configuration allows no spaces in node_id.
    const node = options.node;
    this.#pool = pool;
    this.#q = queries;
    this.#node = node;
    this.#lane = new PostgresWriteLane(pool, queries, node, this.#outbox, this.#rowReader);
    this.#numbers = new SubmitNumbers(async (blocks) => {
      const rows = await this.#rows<{ start: number }>("reserve_submit_numbers", [blocks]);
      return rows.map((r) => r.start);
    });
  }

  /** The pool, for migrations of this store's database. */
  get pool(): pg.Pool {
    return this.#pool;
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
    return this.#insert(tasks, audit, options, true);
  }

  /** `again`: whether submissions whose message id's holder vanished may be submitted once more. */
  async #insert(
    tasks: readonly NewTask[],
    audit: SubmissionAudit | undefined,
    options: SubmissionOptions,
    again: boolean,
  ): Promise<SubmissionOutcome[]> {
    if (tasks.length === 0) return [];
    if (options.quota !== undefined) return this.#insertWithinQuota(tasks, audit, options.quota, again);
    const numbers = await this.#submitNumbers(tasks.length);
    const rows = tasks.map((task, i): InsertRow => ({ task, submitSeq: numbers[i]!, audit }));
    // Queued in this turn: the starts its announcement queues go right behind it, in the same round.
    const keys: string[] = [];
    const expected: TaskRecord[] = [];
    for (const row of rows) {
      const key = keyOf(row.task);
      if (this.#queuedKeys.has(key)) continue;
      this.#queuedKeys.add(key);
      keys.push(key);
      expected.push(newRecord(row.task, row.submitSeq));
    }
    const written = this.#lane.insert(rows);
    if (expected.length > 0) this.#onReady?.(submittedWork(expected, written));
    let created: ReadonlySet<string>;
    try {
      created = await written;
    } finally {
      for (const key of keys) this.#queuedKeys.delete(key);
    }
    return this.#answer(rows, created, audit, options, again);
  }

  /**
   * An insert held to a quota: in one transaction that holds each submitter's quota lock, reads
   * what their unfinished tasks use, refuses the tasks that would go past it, and inserts the
   * rest. Inserts racing for a submitter's room, from any process, take turns. The created tasks
   * are announced as ready work once they are committed.
   */
  async #insertWithinQuota(
    tasks: readonly NewTask[],
    audit: SubmissionAudit | undefined,
    quota: SubmissionQuota,
    again: boolean,
  ): Promise<SubmissionOutcome[]> {
    // Numbered before the transaction: it holds a connection, and the numbers need one too.
    const numbers = await this.#submitNumbers(tasks.length);
    const client = await this.#pool.connect();
    const refused = new Map<number, SubmissionOutcome>();
    let rows: InsertRow[] = [];
    let created: ReadonlySet<string> = new Set();
    try {
      await client.query("BEGIN");
      const submitters = [...new Set(tasks.map((t) => t.submitter))].sort();
      await client.query(this.#q.lock_submitters, [submitters]);
      const takenKeys = await client.query<{ submitter: string; message_id: string }>(
        this.#q.select_taken_keys,
        [tasks.map((t) => t.submitter), tasks.map((t) => t.messageId)],
      );
      const held = new Set(takenKeys.rows.map((r) => `${r.submitter}\u0000${r.message_id}`));
      const ledger = await this.#usageOf(client, submitters);
      const admitted: NewTask[] = [];
      for (const [i, task] of tasks.entries()) {
        const key = keyOf(task);
        // A duplicate costs no quota: it is answered with the task that holds its key.
        if (!held.has(key)) {
          const refusal = ledger.reserve(task.submitter, task.requirements, quota);
          if (refusal !== undefined) {
            refused.set(i, { created: false, refused: { code: "quota_exceeded", message: refusal } });
            continue;
          }
          held.add(key);
        }
        admitted.push(task);
      }
      if (admitted.length > 0) {
        rows = admitted.map((task, i) => ({ task, submitSeq: numbers[i]!, audit }));
        const result = await client.query<{ id: string }>(
          this.#q.insert_tasks,
          insertParams(rows, this.#node, this.#outbox, this.#rowReader.seal),
        );
        created = new Set(result.rows.map((r) => r.id));
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    const news = rows.filter((r) => created.has(r.task.id)).map((r) => newRecord(r.task, r.submitSeq));
    if (news.length > 0) this.#onReady?.(submittedWork(news, Promise.resolve(news.map((t) => t.id))));
    const outcomes = await this.#answer(rows, created, audit, { quota }, again);
    let next = 0;
    return tasks.map((_, i) => refused.get(i) ?? outcomes[next++]!);
  }

  /** Submission numbers, without waiting when enough are at hand (the insert then joins this turn's round). */
  #submitNumbers(n: number): number[] | Promise<number[]> {
    return this.#numbers.take(n);
  }

  /** What each task of an insert became: created, or a duplicate answered with the stored task. */
  async #answer(
    rows: readonly InsertRow[],
    created: ReadonlySet<string>,
    audit: SubmissionAudit | undefined,
    options: SubmissionOptions,
    again: boolean,
  ): Promise<SubmissionOutcome[]> {
    const outcomes = await this.#outcomes(rows, created);
    const vanished = rows.filter((_, i) => outcomes[i] === undefined).map((r) => r.task);
    if (vanished.length === 0) return outcomes as SubmissionOutcome[];
    // Their message id was taken, and the task that held it was removed by retention before it
    // could be read: the id is free again, so they are submitted once more (they would have been
    // created a moment later). Twice in a row is not a race any more: a fault.
    if (!again) throw new Error(`task ${vanished[0]!.id}: its message id is taken, but no task holds it`);
    const retried = await this.#insert(vanished, audit, options, false);
    let next = 0;
    return outcomes.map((o) => o ?? retried[next++]!);
  }

  /** Each task of an insert: created, a duplicate answered with the task that holds its key, or undefined (none does now). */
  async #outcomes(
    rows: readonly InsertRow[],
    created: ReadonlySet<string>,
  ): Promise<(StoredSubmission | undefined)[]> {
    const db = this.#pool;
    const duplicates = rows.filter((r) => !created.has(r.task.id)).map((r) => r.task);
    const holders = new Map<string, { task: TaskRecord; status: TaskStatus }>();
    if (duplicates.length > 0) {
      const stored = await db.query<TaskRow>({
        text: this.#q.select_tasks_by_message,
        values: [duplicates.map((t) => t.submitter), duplicates.map((t) => t.messageId)],
        rowMode: "array",
      });
      const tasks = stored.rows.map(this.#rowReader.task);
      const latest = await db.query<EventRow>(this.#q.select_latest_events, [tasks.map((t) => t.id)]);
      const statuses = new Map(
        latest.rows.map((row) => [row.task_id, toStatusMessage(this.#rowReader.status(row))]),
      );
      for (const task of tasks) holders.set(keyOf(task), { task, status: statuses.get(task.id)! });
    }
    return rows.map(({ task, submitSeq }): StoredSubmission | undefined => {
      if (created.has(task.id))
        return { task: newRecord(task, submitSeq), created: true, status: acceptedStatus(task) };
      const holder = holders.get(keyOf(task));
      return holder && { task: holder.task, created: false, status: holder.status };
    });
  }

  async #usageOf(db: pg.PoolClient, submitters: readonly string[]): Promise<ActiveUsageLedger> {
    const counts = await db.query<{ submitter: string; tasks: number }>(this.#q.active_task_counts, [
      submitters,
    ]);
    const sums = await db.query<{ submitter: string; kind: string; amount: number }>(
      this.#q.active_resource_sums,
      [submitters],
    );
    const ledger = new ActiveUsageLedger();
    for (const { submitter, tasks } of counts.rows) ledger.load(submitter, tasks, {});
    for (const { submitter, kind, amount } of sums.rows) ledger.load(submitter, 0, { [kind]: amount });
    return ledger;
  }

  recordChange(change: TaskChange, options: ChangeOptions = {}): Promise<ChangeOutcome> {
    return this.#planner.apply([change], (outcomes) => outcomes[0]!, options.onRecorded);
  }

  recordChanges(changes: readonly TaskChange[]): Promise<ChangeOutcome[]> {
    return this.#planner.apply(changes, (outcomes) => outcomes);
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    return (await this.#tasks("select_task", [id]))[0];
  }

  async getTaskByMessageId(submitter: string, messageId: string): Promise<TaskRecord | undefined> {
    return (await this.#tasks("select_task_by_message", [submitter, messageId]))[0];
  }

  listTasks(filter: TaskListFilter): Promise<TaskListing[]> {
    return this.#tasks("list_tasks", [
      filter.submitter ?? null,
      filter.state ?? null,
      filter.type ?? null,
      filter.text ?? null,
      filter.beforeSeq ?? NO_TIME,
      filter.limit,
    ]);
  }

  async findTaskIds(abbreviation: IdAbbreviation, limit: number): Promise<string[]> {
    const rows = await this.#rows<{ id: string }>("find_task_ids", [
      abbreviation.prefix,
      abbreviation.suffix ?? null,
      abbreviation.submitter ?? null,
      limit,
    ]);
    return rows.map((r) => r.id);
  }

  async countByState(submitter?: string): Promise<Record<string, number>> {
    const rows = await this.#rows<{ state: string; n: number }>("count_by_state", [submitter ?? null]);
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async queueDepth(): Promise<Record<string, number>> {
    const rows = await this.#rows<{ priority: number; n: number }>("queue_depth", []);
    return Object.fromEntries(rows.map((r) => [String(r.priority), r.n]));
  }

  async activeUsage(submitter: string): Promise<ActiveUsage> {
    const client = await this.#pool.connect();
    try {
      return (await this.#usageOf(client, [submitter])).usage(submitter);
    } finally {
      client.release();
    }
  }

  async getStatuses(taskId: string, afterSequence = 0): Promise<TaskStatus[]> {
    const rows = await this.#rows<EventRow>("select_events", [taskId, afterSequence]);
    return rows.map((row) => toStatusMessage(this.#rowReader.status(row)));
  }

  /** Status messages by (task id, sequence), in the order asked (those that exist). */
  /** These statuses (task id, sequence), with their tasks' facts, in the order asked. */
  async observeStatuses(keys: readonly (readonly [string, number])[]): Promise<ObservedStatus[]> {
    type Row = EventRow & { submitter: string; type: string; created_at: number; started_at: number | null };
    const rows = await this.#rows<Row>("select_events_by_key", [
      keys.map((k) => k[0]),
      keys.map((k) => k[1]),
    ]);
    return rows.map((row) => ({
      status: toStatusMessage(this.#rowReader.status(row)),
      submitter: row.submitter,
      type: row.type,
      createdAt: row.created_at,
      startedAt: row.started_at,
    }));
  }

  async endedBetween(from: number, until: number, limit: number): Promise<EndedTask[]> {
    const rows = await this.#rows<{ task_id: string; sequence: number; finished_at: number }>(
      "select_ended_between",
      [from, until, limit],
    );
    return rows.map((r) => ({ taskId: r.task_id, sequence: r.sequence, endedAt: r.finished_at }));
  }

  fetchReady(limit: number, after?: SchedulingKey): Promise<TaskRecord[]> {
    if (after === undefined) return this.#tasks("select_ready", [limit]);
    return this.#tasks("select_ready_after", [
      after.priority,
      after.deadline ?? NO_TIME,
      after.submitSeq,
      limit,
    ]);
  }

  async claimReady(owner: string, limit: number, until: number): Promise<TaskRecord[]> {
    const claimed = await this.#tasks("claim_ready", [owner, until, limit]);
    return claimed.sort(compareSchedulingKeys);
  }

  async claimTasks(
    owner: string,
    taskIds: readonly string[],
    now: number,
    until: number,
  ): Promise<TaskRecord[]> {
    if (taskIds.length === 0) return [];
    const claimed = await this.#tasks("claim_tasks", [owner, now, until, taskIds]);
    return claimed.sort(compareSchedulingKeys);
  }

  async releaseClaims(owner: string, taskIds?: readonly string[]): Promise<void> {
    await this.#pool.query({
      name: "release_claims",
      text: this.#q.release_claims,
      values: [owner, taskIds ?? null, this.#outbox],
    });
  }

  async releaseLapsedClaims(now: number, limit: number): Promise<number> {
    const [row] = await this.#rows<{ n: number }>("release_lapsed_claims", [now, limit, this.#outbox]);
    return row?.n ?? 0;
  }

  async checkSchema(): Promise<void> {
    const applied = (await appliedPostgresMigrations(this.#pool)).map((m) => m.name);
    const known = postgresMigrationNames();
    const missing = known.filter((name) => !applied.includes(name));
    const unknown = applied.filter((name) => !known.includes(name));
    if (missing.length > 0 || unknown.length > 0)
      throw new Error(
        `the database's schema is not this version's (${missing.length > 0 ? `not applied: ${missing.join(", ")}` : `unknown: ${unknown.join(", ")}`}); run taskexec migrate up, or this version's taskexec`,
      );
  }

  async takeSubmitAllowance(
    principal: string,
    wanted: number,
    perMinute: number,
    now: number,
  ): Promise<{ granted: number; waitMs: number }> {
    const [row] = await this.#rows<{ granted: number; tokens: number }>("take_submit_tokens", [
      principal,
      wanted,
      perMinute,
      now,
    ]);
    const granted = row?.granted ?? 0;
    const waitMs = granted >= wanted ? 0 : Math.ceil(((1 - (row?.tokens ?? 0)) * 60_000) / perMinute);
    return { granted, waitMs };
  }

  async reannounceReady(now: number, before: number, limit: number): Promise<number> {
    if (!this.#outbox) return 0;
    const result = await this.#pool.query({
      name: "reannounce_ready",
      text: this.#q.reannounce_ready,
      values: [now, before, limit],
    });
    return result.rowCount ?? 0;
  }

  fetchDueRetries(now: number, limit: number): Promise<TaskRecord[]> {
    return this.#tasks("select_due_retries", [now, limit]);
  }

  fetchOverdue(now: number, limit: number): Promise<TaskRecord[]> {
    return this.#tasks("select_overdue", [now, limit]);
  }

  fetchLostLeases(now: number, deadOwners: readonly string[], limit: number): Promise<TaskRecord[]> {
    return this.#tasks("select_lost_leases", [now, deadOwners, limit]);
  }

  async leaseOwners(): Promise<string[]> {
    const rows = await this.#rows<{ lease_owner: string }>("select_lease_owners", []);
    return rows.map((r) => r.lease_owner);
  }

  async renewLeases(owner: string, taskIds: readonly string[], expiresAt: number): Promise<number> {
    const result = await this.#pool.query({
      name: "renew_leases",
      text: this.#q.renew_leases,
      values: [owner, taskIds, expiresAt],
    });
    return result.rowCount ?? 0;
  }

  async nextWakeAt(): Promise<number | null> {
    const [row] = await this.#rows<{ at: number | null }>("next_wake", []);
    return row?.at ?? null;
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const column = <T>(pick: (r: AuditRecord) => T) => records.map(pick);
    await this.#pool.query({
      name: "insert_audit",
      text: this.#q.insert_audit,
      values: [
        column((r) => r.at),
        column((r) => r.principal),
        column((r) => r.action),
        column((r) => r.messageId),
        column((r) => r.taskId),
        column((r) => r.decision),
        column((r) => sealedJson(this.#rowReader.seal, r.payload, auditOwner(r.taskId, r.principal))),
      ],
    });
  }

  resealStored(cursor: ResealCursor | null, limit: number): Promise<ResealStep> {
    return resealStep(this.#sealedRows, this.#rowReader.seal, cursor, limit);
  }

  /** The reads and compare-and-set writes of a reseal (store/reseal.ts), each one statement. */
  readonly #sealedRows: SealedRowsAccess = {
    read: async (stage, after, limit, prefix) => {
      if (stage === "statuses") {
        const [task, sequence] = (after as [string, number] | null) ?? ["", -1];
        return this.#rows("select_reseal_statuses", [task, sequence, prefix, limit]);
      }
      return this.#rows(stage === "tasks" ? "select_reseal_tasks" : "select_reseal_audit", [
        after ?? 0,
        prefix,
        limit,
      ]);
    },
    rewrite: async (stage, rewrites) => {
      const column = (at: number, from: "new" | "old") =>
        rewrites.map((r) => (from === "new" ? r.values[at] : r.row.values[at]) ?? null);
      if (stage === "tasks") {
        const ids = rewrites.map((r) => r.row.owner);
        return (
          await this.#rows("reseal_tasks", [
            ids,
            column(0, "new"),
            column(1, "new"),
            column(2, "new"),
            column(0, "old"),
            column(1, "old"),
            column(2, "old"),
          ])
        ).length;
      }
      if (stage === "statuses") {
        const keys = rewrites.map((r) => r.row.key as [string, number]);
        return (
          await this.#rows("reseal_statuses", [
            keys.map((k) => k[0]),
            keys.map((k) => k[1]),
            column(0, "new"),
            column(0, "old"),
          ])
        ).length;
      }
      return (
        await this.#rows("reseal_audit", [rewrites.map((r) => r.row.key), column(0, "new"), column(0, "old")])
      ).length;
    },
  };

  async queryAudit(filter: AuditFilter): Promise<AuditEntry[]> {
    const params = [filter.taskId ?? null, filter.principal ?? null, filter.since ?? null];
    const rows = filter.newestFirst
      ? await this.#rows<AuditRow>("select_audit_newest", [
          ...params,
          filter.beforeId ?? NO_TIME,
          filter.limit,
        ])
      : await this.#rows<AuditRow>("select_audit", [...params, filter.afterId ?? 0, filter.limit]);
    return rows.map(this.#rowReader.audit);
  }

  async deleteFinishedBefore(cutoff: number, limit: number): Promise<number> {
    const [row] = await this.#rows<{ n: number }>("delete_finished", [cutoff, limit]);
    await this.#pool.query({
      name: "delete_old_audit",
      text: this.#q.delete_old_audit,
      values: [cutoff, limit],
    });
    return row?.n ?? 0;
  }

  async recordNode(node: string, resources: NodeReport | undefined, at: number): Promise<void> {
    if (resources === undefined) {
      await this.#pool.query({ name: "delete_node", text: this.#q.delete_node, values: [node] });
      return;
    }
    await this.#pool.query({
      name: "record_node",
      text: this.#q.record_node,
      values: [node, JSON.stringify(resources), at, at - DAY_MS],
    });
  }

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.#rows<{ node: string; resources: string; heartbeat_at: number }>(
      "select_nodes",
      [],
    );
    return rows.map((r) => ({
      ...(JSON.parse(r.resources) as NodeReport),
      node: r.node,
      heartbeatAt: r.heartbeat_at,
    }));
  }

  async forwardReadyWork(
    limit: number,
    send: (entries: readonly ReadyWorkEntry[]) => Promise<void>,
  ): Promise<number> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{
        id: string;
        task_id: string;
        priority: number;
        type: string | null;
        requirements: string | null;
      }>(this.#q.select_outbox, [limit]);
      if (rows.length > 0) {
        // Locked meanwhile: another relay skips them; the lock goes with a dead process. Work for
        // a task removed since is dropped.
        await send(
          rows.flatMap((r) =>
            r.type === null || r.requirements === null
              ? []
              : [
                  {
                    taskId: r.task_id,
                    priority: r.priority,
                    type: r.type,
                    requirements: JSON.parse(r.requirements) as ResourceAmounts,
                  },
                ],
          ),
        );
        await client.query(this.#q.delete_outbox, [rows.map((r) => r.id)]);
      }
      await client.query("COMMIT");
      return rows.length;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async soleDuty(name: string, retryMs: number): Promise<SoleDuty> {
    const lock = await SessionLock.take({
      url: this.#url,
      name,
      retryMs,
      onError: this.#onConnectionError,
    });
    this.#duties.add(lock);
    return {
      get mine() {
        return lock.mine;
      },
      release: () => {
        this.#duties.delete(lock);
        return lock.release();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#duties].map((duty) => duty.release()));
    await this.#lane.idle();
    await this.#pool.end();
  }

  async #rows<R extends object>(name: keyof PostgresQueries, values: unknown[]): Promise<R[]> {
    return (await this.#pool.query<R>({ name, text: this.#q[name], values })).rows;
  }

  async #tasks(name: keyof PostgresQueries, values: unknown[]): Promise<TaskRecord[]> {
    const result = await this.#pool.query<TaskRow>({ name, text: this.#q[name], values, rowMode: "array" });
    return result.rows.map(this.#rowReader.task);
  }
}

const keyOf = (task: Pick<NewTask, "submitter" | "messageId">): string =>
  `${task.submitter}\u0000${task.messageId}`;
