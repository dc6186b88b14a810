import type { Database } from "better-sqlite3";

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: every write queued during one event-loop turn runs in one SQLite transaction,
 * and each write's promise settles only after that transaction is on disk. Each write runs in its
 * own savepoint, so one that throws (a lost compare-and-set, say) undoes only itself.
 */
export class SqliteGroupCommit {
  #queue: PendingWrite[] = [];
  #scheduled = false;
  #commits = 0;
  readonly #batch: (writes: PendingWrite[]) => { ok: boolean; value: unknown }[];
  readonly #single: (run: () => unknown) => unknown;

  constructor(db: Database) {
    // A nested db.transaction() runs as a SAVEPOINT inside the outer one.
    this.#single = db.transaction((run: () => unknown) => run());
    this.#batch = db.transaction((writes: PendingWrite[]) =>
      writes.map((write) => {
        try {
          return { ok: true, value: this.#single(write.run) };
        } catch (error) {
          return { ok: false, value: error };
        }
      }),
    );
  }

  /** Transactions committed so far (each holding one turn's writes). */
  get commits(): number {
    return this.#commits;
  }

  /** Queues a write; resolves with its value once the transaction holding it has committed. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
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
    let outcomes: { ok: boolean; value: unknown }[];
    try {
      outcomes = this.#batch(writes);
      this.#commits += 1;
    } catch (error) {
      // The commit itself failed (disk full, I/O error): nothing of the batch is durable.
      for (const write of writes) write.reject(error);
      return;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.value);
    });
  }
}
