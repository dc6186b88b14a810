import pg from "pg";
import type { SoleDuty } from "../sole-duty.js";

export interface SessionLockOptions {
  url: string;
  /** The duty's name: the lock is `pg_try_advisory_lock(hashtext('taskexec:' || name))`. */
  name: string;
  /** How often a process waiting its turn tries again, and a holder checks its session is alive. */
  retryMs: number;
  /** Told of the errors it recovers from (a database restart). */
  onError?: ((error: Error) => void) | undefined;
}

/**
 * A {@link SoleDuty} on PostgreSQL: a session-level advisory lock, held on a connection of its own
 * (a pooled one goes back to the pool) for as long as the process lives. When the process dies,
 * its session ends and the server frees the lock; the next process to try takes it. A holder
 * checks its session every `retryMs` and, should it be lost, stops counting the duty as its own
 * at once and tries again on a new one.
 */
export class SessionLock implements SoleDuty {
  readonly #options: SessionLockOptions;
  #client: pg.Client | undefined;
  #mine = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;

  private constructor(options: SessionLockOptions) {
    this.#options = options;
  }

  /** Tries once now (resolves either way; a database away is one more reason to try later). */
  static async take(options: SessionLockOptions): Promise<SessionLock> {
    const lock = new SessionLock(options);
    await lock.#attempt();
    return lock;
  }

  get mine(): boolean {
    return this.#mine;
  }

  async release(): Promise<void> {
    this.#closed = true;
    this.#mine = false;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #attempt(): Promise<void> {
    try {
      const client = this.#client ?? (await this.#connect());
      if (this.#mine) await client.query("SELECT 1");
      else {
        const { rows } = await client.query<{ mine: boolean }>(
          "SELECT pg_try_advisory_lock(hashtext($1)) AS mine",
          [`taskexec:${this.#options.name}`],
        );
        this.#mine = rows[0]?.mine === true && !this.#closed;
      }
    } catch (error) {
      this.#lost(error as Error);
    }
    if (this.#closed) return;
    this.#timer = setTimeout(() => void this.#attempt(), this.#options.retryMs);
    this.#timer.unref();
  }

  async #connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: `taskexec duty ${this.#options.name}`,
    });
    client.on("error", (error) => {
      if (this.#client === client) this.#lost(error);
    });
    await client.connect();
    if (this.#closed) {
      await client.end();
      throw new Error("released");
    }
    this.#client = client;
    return client;
  }

  /** The session is gone, and the lock with it. */
  #lost(error: Error): void {
    const client = this.#client;
    this.#client = undefined;
    this.#mine = false;
    void client?.end().catch(() => {});
    if (!this.#closed) this.#options.onError?.(error);
  }
}
