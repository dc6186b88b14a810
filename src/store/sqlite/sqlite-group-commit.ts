import type { Database } from "better-sqlite3";

interface PendingWrite {
  run: () => unknown;
  /** Called with the write's value once its transaction has committed, before it is durable. */
  onCommitted: ((value: unknown) => void) | undefined;
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
 * With a `sync` (see {@link WalSync}), the transaction commits without syncing and the promises
 * settle once `sync` has made it durable, while the event loop goes on; a write's `onCommitted`
 * runs in between, at commit. Without one, the commit itself is durable (or the store was opened
 * not to be).
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

  readonly #sync: (() => Promise<void>) | undefined;

  constructor(
    db: Database,
    isCleanFailure: (error: unknown) => boolean = () => false,
    sync?: () => Promise<void>,
  ) {
    this.#sync = sync;
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
   * Queues a write; resolves with its value once the transaction holding it is durable (committed,
   * and synced when there is a sync). A write queued by another write's `run` (while a batch is
   * being committed) joins that batch. `onCommitted` must not throw: if it does, the write's
   * promise rejects with that error although the write stays committed.
   */
  write<T>(run: () => T, onCommitted?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: PendingWrite = {
        run,
        onCommitted: onCommitted as ((value: unknown) => void) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
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
      if (outcome.ok && write.onCommitted !== undefined) {
        try {
          write.onCommitted(outcome.value);
        } catch (error) {
          outcomes[i] = { ok: false, value: error };
        }
      }
    });
    if (this.#sync === undefined) {
      settle(writes, outcomes);
      return;
    }
    this.#sync().then(
      () => settle(writes, outcomes),
      // Committed but maybe not on disk: nothing of this batch may be announced.
      (error: unknown) => {
        for (const write of writes) write.reject(error);
      },
    );
  }
}

function settle(writes: readonly PendingWrite[], outcomes: readonly Outcome[]): void {
  writes.forEach((write, i) => {
    const outcome = outcomes[i]!;
    if (outcome.ok) write.resolve(outcome.value);
    else write.reject(outcome.value);
  });
}
