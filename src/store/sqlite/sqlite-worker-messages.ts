// What the store's main thread and its SQLite worker thread say to each other. A batch of writes
// travels as one flat array of primitives (a tape): its structured clone is on both threads' hot
// path, and a clone costs per object, so nothing on it is nested but the rare statement's
// parameters.
//
// A batch tape is its writes one after the other; a write is its number of units, then each
// unit, an op code followed by its fields:
//
//   INSERT  a new task: the 15 values of insert_task.sql, its acceptance (message_id, progress,
//           details, at), then 1 and the audit's (at, principal), or 0 for no audit record
//   CHANGE  a task's change: task id, the 17 values of update_task.sql (its guard last), the
//           number of statuses, then each status's (sequence, message_id, state, progress,
//           details, at)
//   STEP    one statement, unguarded: statement index, kind, parameters
//
// The reply is a tape too: per write, the number of values its units yielded and those values,
// or -1 and the error that write alone failed with. A unit yields:
//
//   INSERT  1 (created), or 0, the stored task's row and its newest status row (a duplicate)
//   CHANGE  1 (applied), or 0 and the stored task's row, or undefined (the guard did not hold)
//   STEP    what the statement returned: its changes, its row or its rows, as `kind` says

export const OP_INSERT = 1;
export const OP_CHANGE = 2;
export const OP_STEP = 3;

/** How a statement runs, and so what it yields: `changes`, one row, or every row. */
export const RUN = 0;
export const GET = 1;
export const ALL = 2;
export type StepKind = typeof RUN | typeof GET | typeof ALL;

/** Statement parameters: positional (an array) or named (an object). */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/** One statement outside a batch: its index, parameters and kind. */
export type Read = [statement: number, params: Params, kind: StepKind];

/** A flat array of primitives: a batch of writes, or their results (see the top of this file). */
export type Tape = unknown[];

/** An error as it crosses the thread boundary (structured clone keeps neither class nor `code`). */
export interface WireError {
  name: string;
  message: string;
  code?: string | undefined;
}

/** Main → worker. `writes`: where each write starts on the tape. */
export type Request = { batch: Tape; writes: readonly number[] } | { read: Read } | { close: true };

/** Worker → main, one per request, in request order. */
export type Reply = { results: Tape } | { value: unknown } | { error: WireError } | { closed: true };

/** What the worker is started with. */
export interface WorkerInit {
  path: string;
  /** SQL text per statement index. */
  statements: readonly string[];
  /** Indexes of the statements that return task rows: run in raw mode, their columns checked. */
  taskQueries: readonly number[];
  /** The column names every task query must return, in order. */
  taskColumns: readonly string[];
  /** The indexes of the statements the op codes run. */
  ops: OpStatements;
}

/** The statements behind INSERT and CHANGE. */
export interface OpStatements {
  insertTask: number;
  insertEvent: number;
  insertAudit: number;
  insertDuplicateAudit: number;
  selectTaskByMessage: number;
  selectLatestEventByMessage: number;
  updateTask: number;
  selectTask: number;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, code: typeof code === "string" ? code : undefined };
  }
  return { name: "Error", message: String(error) };
}

/** The error of the other thread, with its name and SQLite code (`SQLITE_FULL`, …) when it had one. */
export class SqliteWorkerError extends Error {
  readonly code: string | undefined;

  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name;
    this.code = wire.code;
  }
}
