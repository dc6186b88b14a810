import { coerceError } from "../../protocol/errors.js";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import {
  type OpStatements,
  type Read,
  type Reply,
  type Request,
  SqliteWorkerError,
  type Tape,
  type WireError,
  type WorkerInit,
} from "./sqlite-worker-messages.js";

/** Makes committed transactions durable (a {@link import("./wal-sync.js").WalSync}). */
export interface DurableSync {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** A batch of at least this many writes goes to an idle worker in two halves (see #flush). */
const SPLIT_AT = 16;

interface PendingWrite {
  committed: (results: Tape, at: number) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The worker thread, from the build; from the sources (tests, benchmarks) through tsx's loader. */
function startWorker(workerData: WorkerInit & { port: MessagePort }): Worker {
  const options = { workerData, transferList: [workerData.port] };
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./sqlite-worker.js", import.meta.url), options);
  // A worker does not inherit the loader hooks of `--import tsx` (tsx issue 354): register them first.
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const script = JSON.stringify(new URL("./sqlite-worker.ts", import.meta.url).href);
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${script}); });`, {
    ...options,
    eval: true,
  });
}

/**
 * The store's connection to its SQLite file, which lives on a worker thread (sqlite-worker.ts):
 * the event loop sends statements, the worker runs them. Requests are answered in order.
 *
 * Writes are group-committed: every write queued during one event-loop turn goes to the worker
 * as one batch, one transaction (or two, see #flush). A write's promise resolves once its
 * transaction is durable (committed, then synced by `sync` when there is one), so callers
 * announce nothing a crash or power loss could take back; its `committed` callback runs in
 * between, at commit. Batches settle in commit order. Reads see every write queued before them.
 */
export class SqliteConnection {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #sync: DurableSync | undefined;
  /** What to do with each reply to come, in request order. */
  readonly #replies: ((reply: Reply) => void)[] = [];
  #replyHead = 0;
  #queue: PendingWrite[] = [];
  /** The queued writes, encoded (see sqlite-worker-messages.ts), and where each starts. */
  #tape: Tape = [];
  #starts: number[] = [];
  #scheduled = false;
  #batches = 0;
  /** Batches sent and not answered yet. */
  #batchesOut = 0;
  #closed: Promise<void> | undefined;
  #failure: Error | undefined;

  /** Starts the worker on the file at `path` (migrated already) and prepares `statements` there. */
  static async open(options: {
    path: string;
    statements: readonly string[];
    taskQueries: readonly number[];
    taskColumns: readonly string[];
    ops: OpStatements;
    sync?: DurableSync | undefined;
  }): Promise<SqliteConnection> {
    const connection = new SqliteConnection(options, options.sync);
    // The worker's first message says whether it opened the file and prepared every statement.
    await connection.#expectReply().catch(async (error: unknown) => {
      connection.#closed = connection.#worker.terminate().then(() => {});
      await connection.#closed;
      throw error;
    });
    return connection;
  }

  private constructor(init: WorkerInit, sync: DurableSync | undefined) {
    this.#sync = sync;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const workerData: WorkerInit & { port: MessagePort } = {
      path: init.path,
      statements: init.statements,
      taskQueries: init.taskQueries,
      taskColumns: init.taskColumns,
      ops: init.ops,
      port: port2,
    };
    this.#worker = startWorker(workerData);
    this.#port.on("message", (reply: Reply) => this.#onReply(reply));
    this.#worker.on("error", (error) => this.#fail(error));
    this.#worker.on("exit", (code) => {
      if (this.#closed === undefined) this.#fail(new Error(`the SQLite worker thread exited (code ${code})`));
    });
    this.#idle();
  }

  /** Batches committed so far (a batch the worker had to replay counts once). */
  get batches(): number {
    return this.#batches;
  }

  /**
   * Queues a write: `encode` appends its units to the batch's tape (see sqlite-worker-messages.ts),
   * and they run in order, in one transaction with the rest of this turn's writes. `committed` is
   * called as soon as that transaction commits, with the results tape and where this write's
   * results start; what it returns is what the write resolves to once the transaction is
   * durable. If it throws, the write rejects with that error although it stays committed.
   */
  write<T>(encode: (tape: Tape) => void, committed: (results: Tape, at: number) => T): Promise<Awaited<T>> {
    return new Promise<Awaited<T>>((resolve, reject) => {
      if (this.#failure !== undefined || this.#closed !== undefined) {
        reject(this.#failure ?? new Error("the store is closed"));
        return;
      }
      const start = this.#tape.length;
      try {
        encode(this.#tape);
      } catch (error) {
        this.#tape.length = start;
        reject(coerceError(error));
        return;
      }
      this.#starts.push(start);
      this.#queue.push({ committed, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /**
   * Runs one statement outside any write. It sees every write queued before it (those are sent
   * first), committed by the time the worker reaches it, though perhaps not yet durable.
   */
  read<T>(read: Read): Promise<T> {
    if (this.#queue.length > 0) this.#flush();
    return this.#request({ read }) as Promise<T>;
  }

  /** Commits what is queued, waits for every answer, and ends the worker. */
  close(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#flush();
    this.#closed = (async () => {
      if (this.#failure === undefined) await this.#request({ close: true }).catch(() => {});
      await this.#worker.terminate();
      this.#port.close();
      await this.#sync?.close();
    })();
    return this.#closed;
  }

  #flush(): void {
    this.#scheduled = false;
    const writes = this.#queue;
    if (writes.length === 0) return;
    const tape = this.#tape;
    const starts = this.#starts;
    this.#queue = [];
    this.#tape = [];
    this.#starts = [];
    // An idle worker gets a large batch as two: the event loop can act on the first half's
    // commit (start handlers, queue their outcomes) while the worker commits the second, so the
    // two threads work side by side instead of waiting for each other in turn.
    if (this.#batchesOut > 0 || writes.length < SPLIT_AT) {
      this.#send(writes, tape, starts);
      return;
    }
    const half = writes.length >> 1;
    const cut = starts[half]!;
    this.#send(writes.slice(0, half), tape.slice(0, cut), starts.slice(0, half));
    this.#send(
      writes.slice(half),
      tape.slice(cut),
      starts.slice(half).map((start) => start - cut),
    );
  }

  #send(writes: readonly PendingWrite[], tape: Tape, starts: readonly number[]): void {
    this.#batchesOut += 1;
    this.#request({ batch: tape, writes: starts }).then(
      (value) => {
        this.#batchesOut -= 1;
        this.#committed(writes, value as Tape);
      },
      (error: unknown) => {
        this.#batchesOut -= 1;
        // The commit itself failed (disk full, I/O error): nothing of the batch is written.
        for (const write of writes) write.reject(error);
      },
    );
  }

  #committed(writes: readonly PendingWrite[], results: Tape): void {
    this.#batches += 1;
    let at = 0;
    const outcomes: { ok: boolean; value: unknown }[] = writes.map((write) => {
      const count = results[at] as number;
      if (count === -1) {
        const error = new SqliteWorkerError(results[at + 1] as WireError);
        at += 2;
        return { ok: false, value: error };
      }
      const start = at + 1;
      at = start + count;
      try {
        return { ok: true, value: write.committed(results, start) };
      } catch (error) {
        return { ok: false, value: error };
      }
    });
    const settle = () =>
      writes.forEach((write, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.value);
      });
    if (this.#sync === undefined) {
      settle();
      return;
    }
    this.#sync.sync().then(settle, (error: unknown) => {
      // Committed but maybe not on disk: nothing of this batch may be announced.
      for (const write of writes) write.reject(error);
    });
  }

  /** Sends a request; resolves with its reply's `results` or `value`. */
  #request(request: Request): Promise<unknown> {
    const reply = this.#expectReply();
    if (this.#failure === undefined) this.#port.postMessage(request);
    return reply;
  }

  /** The next reply the worker sends, as a promise of its `results` or `value`. */
  #expectReply(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.#failure !== undefined) {
        reject(this.#failure);
        return;
      }
      if (this.#replies.length === this.#replyHead) this.#busy();
      this.#replies.push((reply) => {
        if ("error" in reply) reject(new SqliteWorkerError(reply.error));
        else if ("results" in reply) resolve(reply.results);
        else if ("value" in reply) resolve(reply.value);
        else resolve(undefined);
      });
    });
  }

  #onReply(reply: Reply): void {
    const handle = this.#replies[this.#replyHead];
    this.#replies[this.#replyHead++] = undefined as never;
    if (this.#replyHead === this.#replies.length) {
      this.#replies.length = 0;
      this.#replyHead = 0;
      this.#idle();
    } else if (this.#replyHead > 1024) {
      this.#replies.splice(0, this.#replyHead);
      this.#replyHead = 0;
    }
    handle?.(reply);
  }

  /** The worker died: every request waiting, and every one to come, fails with why. */
  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    const waiting = this.#replies.slice(this.#replyHead);
    this.#replies.length = 0;
    this.#replyHead = 0;
    for (const handle of waiting) handle({ error: { name: error.name, message: error.message } });
    for (const write of this.#queue) write.reject(error);
    this.#queue = [];
    this.#tape = [];
    this.#starts = [];
  }

  // While a request is out, the worker keeps the process alive (a pending promise does not); when
  // none is, it must not, or a process that forgot to close its store would never exit.
  #busy(): void {
    this.#worker.ref();
    this.#port.ref();
  }

  #idle(): void {
    this.#worker.unref();
    this.#port.unref();
  }
}
