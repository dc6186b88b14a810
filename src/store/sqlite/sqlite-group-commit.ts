import type { Database } from "better-sqlite3";

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: boolean; value: unknown };

/** A write failed after it may have written something: the batch must not commit as it is. */
class DirtyFailure extends Error {
  constructor(readonly original: unknown) {
    super("a write failed part way");
  }
}

/**
 * Group commit: every write queued during one event-loop turn runs in one SQLite transaction,
 * and each write's promise settles only after that transaction is on disk.
 *
 * A write that fails *cleanly* (before writing anything — a lost compare-and-set, as judged by
 * `isCleanFailure`) just rejects, and the others commit. Any other failure may have left part
 * of that write behind, so the whole batch is rolled back and replayed one write per
 * transaction: slower, but each write then stands or falls alone. The fast path needs no
 * savepoint per write.
 */
export class SqliteGroupCommit {
  #queue: PendingWrite[] = [];
  /** The batch being committed: a write queued while it runs (by another write) joins it. */
  #flushing: PendingWrite[] | undefined;
  #scheduled = false;
  #commits = 0;
  readonly #batch: (writes: PendingWrite[]) => Outcome[];
  readonly #single: (run: () => unknown) => unknown;

  constructor(db: Database, isCleanFailure: (error: unknown) => boolean = () => false) {
    this.#single = db.transaction((run: () => unknown) => run());
    this.#batch = db.transaction((writes: PendingWrite[]) => {
      const outcomes: Outcome[] = [];
      // By index: the batch may grow while it runs.
      for (let i = 0; i < writes.length; i++) {
        try {
          outcomes.push({ ok: true, value: writes[i]!.run() });
        } catch (error) {
          if (!isCleanFailure(error)) throw new DirtyFailure(error);
          outcomes.push({ ok: false, value: error });
        }
      }
      return outcomes;
    });
  }

  /** Transactions committed so far. */
  get commits(): number {
    return this.#commits;
  }

  /**
   * Queues a write; resolves with its value once the transaction holding it has committed. A
   * write queued by another write's `run` (while a batch is being committed) joins that batch.
   */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending = { run, resolve: resolve as (value: unknown) => void, reject };
      if (this.#flushing !== undefined) {
        this.#flushing.push(pending);
        return;
      }
      this.#queue.push(pending);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits whatever is queued now. */
  flush(): void {
    this.#scheduled = false;
    const writes = this.#queue;
    if (writes.length === 0) return;
    this.#queue = [];
    this.#flushing = writes;
    let outcomes: Outcome[];
    try {
      outcomes = this.#batch(writes);
      this.#commits += 1;
    } catch (error) {
      if (!(error instanceof DirtyFailure)) {
        // The commit itself failed (disk full, I/O error): nothing of the batch is durable.
        for (const write of writes) write.reject(error);
        return;
      }
      outcomes = [];
      for (let i = 0; i < writes.length; i++) {
        try {
          outcomes.push({ ok: true, value: this.#single(writes[i]!.run) });
          this.#commits += 1;
        } catch (failure) {
          outcomes.push({ ok: false, value: failure });
        }
      }
    } finally {
      this.#flushing = undefined;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    });
  }
}
