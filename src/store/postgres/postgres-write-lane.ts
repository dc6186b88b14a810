import type pg from "pg";
import type { PlannedChange, WriteAnswer } from "../change-planner.js";
import type { TaskRecord } from "../../domain/records.js";
import type { RowReader, TaskRow } from "../stored-rows.js";
import { insertParams, type InsertRow, updateParams } from "./postgres-params.js";
import type { PostgresQueries } from "./postgres-queries.js";

/** SQLSTATE of a transaction the server aborted to break a deadlock. */
const DEADLOCK_DETECTED = "40P01";

interface InsertJob {
  rows: readonly InsertRow[];
  resolve: (created: ReadonlySet<string>) => void;
  reject: (error: unknown) => void;
}

interface ChangeJob {
  taskId: string;
  /** A change to write; undefined for a read of the task (the planner's), answered in line. */
  planned: PlannedChange | undefined;
  resolve: (answer: WriteAnswer) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for one process: the writes queued in one event-loop turn go to the database
 * together, one statement per kind (the inserts of every submission, then every task's change),
 * one round trip each, while the next turn's writes queue behind them. Inserts run before
 * changes, so a change queued right after its task's insert (a new task that starts at once)
 * finds the task. Changes to one task are written one per round (the statement updates a row
 * once); the next waits for the next round, in the order they were made. The change planner's
 * reads of a task wait in the same line, so each is answered after the writes asked before it.
 */
export class PostgresWriteLane {
  readonly #pool: pg.Pool;
  readonly #q: PostgresQueries;
  #inserts: InsertJob[] = [];
  #changes: ChangeJob[] = [];
  #scheduled = false;
  #running: Promise<void> | undefined;
  /** This process's node: the statements name it in their notifications (see transport/postgres/postgres-status-feed.ts). */
  readonly #node: string;

  /** Ready work goes to the work outbox too (distributed mode). */
  readonly #outbox: boolean;

  /** Reads rows into records, opening the sealed values (and seals them on the way in). */
  readonly #rows: RowReader;

  constructor(pool: pg.Pool, queries: PostgresQueries, node: string, outbox: boolean, rows: RowReader) {
    this.#rows = rows;
    this.#pool = pool;
    this.#q = queries;
    this.#node = node;
    this.#outbox = outbox;
  }

  /** Inserts tasks (skipping taken keys); resolves to the ids it created. */
  insert(rows: readonly InsertRow[]): Promise<ReadonlySet<string>> {
    return new Promise((resolve, reject) => {
      this.#inserts.push({ rows, resolve, reject });
      this.#schedule();
    });
  }

  /** Writes a planned change if the stored task is still where it was planned from. */
  change(planned: PlannedChange): Promise<WriteAnswer> {
    return new Promise((resolve, reject) => {
      this.#changes.push({ taskId: planned.from.id, planned, resolve, reject });
      this.#schedule();
    });
  }

  /** Reads a task after every change to it queued before (for the change planner). */
  read(taskId: string): Promise<TaskRecord | undefined> {
    return new Promise<WriteAnswer>((resolve, reject) => {
      this.#changes.push({ taskId, planned: undefined, resolve, reject });
      this.#schedule();
    }).then((answer) => (answer.written ? undefined : answer.stored));
  }

  /** Resolves when everything queued so far is written (or failed). */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#scheduled)
      await (this.#running ?? new Promise((resolve) => setImmediate(resolve)));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running !== undefined) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
        // Queued after the drain's last look (the answers' continuations run after it).
        if (this.#inserts.length > 0 || this.#changes.length > 0) this.#schedule();
      });
    });
  }

  async #drain(): Promise<void> {
    while (this.#inserts.length > 0 || this.#changes.length > 0) {
      const inserts = this.#inserts;
      this.#inserts = [];
      if (inserts.length > 0) await this.#runInserts(inserts);
      const round = this.#takeRound();
      if (round.length > 0) await this.#runChanges(round);
    }
  }

  /** The changes of this round: the first queued for each task; the rest stay, in order. */
  #takeRound(): ChangeJob[] {
    const round: ChangeJob[] = [];
    const later: ChangeJob[] = [];
    const seen = new Set<string>();
    for (const job of this.#changes) {
      const id = job.taskId;
      if (seen.has(id)) later.push(job);
      else {
        seen.add(id);
        round.push(job);
      }
    }
    this.#changes = later;
    return round;
  }

  /** Runs a statement, once more if the database broke a deadlock by aborting it (nothing was written). */
  async #query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(config);
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED) throw error;
      return await this.#pool.query<R>(config);
    }
  }

  async #runInserts(jobs: readonly InsertJob[]): Promise<void> {
    try {
      const rows = jobs.flatMap((job) => job.rows);
      const result = await this.#query<{ id: string }>({
        name: "insert_tasks",
        text: this.#q.insert_tasks,
        values: insertParams(rows, this.#node, this.#outbox, this.#rows.seal),
      });
      const created = new Set(result.rows.map((r) => r.id));
      for (const job of jobs) job.resolve(created);
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
  }

  async #runChanges(jobs: readonly ChangeJob[]): Promise<void> {
    let written = new Set<string>();
    const stored = new Map<string, TaskRecord>();
    try {
      const changes = jobs.flatMap((job) => (job.planned === undefined ? [] : [job.planned]));
      if (changes.length > 0) {
        const result = await this.#query<{ id: string }>({
          name: "update_tasks",
          text: this.#q.update_tasks,
          values: [...updateParams(changes, this.#rows.seal), this.#node, this.#outbox],
        });
        written = new Set(result.rows.map((r) => r.id));
      }
      // Reads, and the stored task of each refused change, in the same round: a refused change
      // is planned again without another wait.
      const toRead = jobs.filter((job) => !written.has(job.taskId)).map((job) => job.taskId);
      if (toRead.length > 0) {
        const rows = await this.#pool.query<TaskRow>({
          name: "select_tasks",
          text: this.#q.select_tasks,
          values: [toRead],
          rowMode: "array",
        });
        for (const row of rows.rows) stored.set(row[1] as string, this.#rows.task(row));
      }
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    for (const job of jobs) {
      const id = job.taskId;
      job.resolve(written.has(id) ? { written: true } : { written: false, stored: stored.get(id) });
    }
  }
}
