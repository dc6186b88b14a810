import type { Database, Statement } from "better-sqlite3";
import {
  ALL,
  GET,
  OP_CHANGE,
  OP_INSERT,
  type OpStatements,
  type Params,
  type Read,
  type StepKind,
  type Tape,
  toWireError,
} from "./sqlite-worker-messages.js";

/** A statement failed part way through a write: the batch must not commit as it is. */
class DirtyFailure extends Error {
  constructor(readonly original: unknown) {
    super("a write failed part way");
  }
}

const TASK_VALUES = 16;
const UPDATE_VALUES = 17;
const STATUS_VALUES = 6;

/**
 * Runs batches of writes (tapes, see sqlite-worker-messages.ts) against one connection, on the
 * SQLite worker thread: a batch is one transaction. A unit whose guard holds no more (a task
 * taken already, a change planned from a state the task has left) is skipped cleanly, having
 * written nothing, and the others go on. A statement that throws may have left part of its
 * write behind, so the batch is rolled back and replayed one write per transaction: slower, but
 * each write then stands or falls alone, and the fast path needs no savepoint per write.
 */
export class SqliteBatchRunner {
  readonly #statements: readonly Statement[];
  readonly #ops: OpStatements;
  readonly #batch: (tape: Tape, writes: readonly number[], out: Tape) => void;
  readonly #single: (tape: Tape, start: number, out: Tape) => void;
  #commits = 0;

  constructor(db: Database, statements: readonly Statement[], ops: OpStatements) {
    this.#statements = statements;
    this.#ops = ops;
    this.#single = db.transaction((tape: Tape, start: number, out: Tape) => this.#write(tape, start, out));
    this.#batch = db.transaction((tape: Tape, writes: readonly number[], out: Tape) => {
      for (const start of writes) {
        try {
          this.#write(tape, start, out);
        } catch (error) {
          throw new DirtyFailure(error);
        }
      }
    });
  }

  /** Transactions committed so far. */
  get commits(): number {
    return this.#commits;
  }

  /**
   * Commits a batch and returns its results tape. Throws when the commit itself fails (disk
   * full, I/O error): nothing of the batch is written.
   */
  runBatch(tape: Tape, writes: readonly number[]): Tape {
    let out: Tape = [];
    try {
      this.#batch(tape, writes, out);
      this.#commits += 1;
      return out;
    } catch (error) {
      if (!(error instanceof DirtyFailure)) throw error;
    }
    out = [];
    for (const start of writes) {
      const mark = out.length;
      try {
        this.#single(tape, start, out);
        this.#commits += 1;
      } catch (error) {
        out.length = mark;
        out.push(-1, toWireError(error));
      }
    }
    return out;
  }

  /** Runs one statement outside any batch. */
  read([statement, params, kind]: Read): unknown {
    return this.#run(statement, params, kind);
  }

  /** Runs the write that starts at `start`, appending its results (count first) to `out`. */
  #write(tape: Tape, start: number, out: Tape): void {
    const units = tape[start] as number;
    const countAt = out.length;
    out.push(0);
    let at = start + 1;
    for (let u = 0; u < units; u++) {
      const op = tape[at++];
      if (op === OP_INSERT) at = this.#insert(tape, at, out);
      else if (op === OP_CHANGE) at = this.#change(tape, at, out);
      else {
        out.push(this.#run(tape[at] as number, tape[at + 1] as Params, tape[at + 2] as StepKind));
        at += 3;
      }
    }
    out[countAt] = out.length - countAt - 1;
  }

  #insert(tape: Tape, at: number, out: Tape): number {
    const ops = this.#ops;
    const s = this.#statements;
    const task = tape.slice(at, at + TASK_VALUES);
    at += TASK_VALUES;
    const [, id, submitter, messageId, , state] = task;
    const [eventId, progress, details, eventAt, audited] = tape.slice(at, at + 5);
    at += 5;
    const [auditAt, principal] = audited === 1 ? [tape[at], tape[at + 1]] : [];
    if (audited === 1) at += 2;
    if (s[ops.insertTask]!.run(task).changes > 0) {
      s[ops.insertEvent]!.run(id, 1, eventId, state, progress, details, eventAt);
      if (audited === 1)
        s[ops.insertAudit]!.run(auditAt, principal, "submit_task", messageId, id, "accepted", null);
      out.push(1);
      return at;
    }
    if (audited === 1) s[ops.insertDuplicateAudit]!.run(auditAt, principal, submitter, messageId);
    out.push(
      0,
      s[ops.selectTaskByMessage]!.get({ submitter, message_id: messageId }),
      s[ops.selectLatestEventByMessage]!.get(submitter, messageId),
    );
    return at;
  }

  #change(tape: Tape, at: number, out: Tape): number {
    const ops = this.#ops;
    const s = this.#statements;
    const id = tape[at++];
    const update = tape.slice(at, at + UPDATE_VALUES);
    at += UPDATE_VALUES;
    const statuses = tape[at++] as number;
    if (s[ops.updateTask]!.run(update).changes === 0) {
      out.push(0, s[ops.selectTask]!.get({ id }));
      return at + statuses * STATUS_VALUES;
    }
    const insertEvent = s[ops.insertEvent]!;
    for (let i = 0; i < statuses; i++, at += STATUS_VALUES)
      insertEvent.run(id, tape[at], tape[at + 1], tape[at + 2], tape[at + 3], tape[at + 4], tape[at + 5]);
    out.push(1);
    return at;
  }

  #run(statement: number, params: Params, kind: StepKind): unknown {
    const prepared = this.#statements[statement]!;
    if (kind === GET) return prepared.get(params);
    if (kind === ALL) return prepared.all(params);
    return prepared.run(params).changes;
  }
}
