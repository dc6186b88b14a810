import pg from "pg";
import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";

/**
 * The channel of work signals on a shared PostgreSQL database; the payload is the sending node.
 * The store's writes that make tasks ready notify it in the same statement (insert_tasks.sql,
 * update_tasks.sql), so other processes hear of work exactly when it commits.
 */
export const WORK_CHANNEL = "taskexec_work";
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export interface PostgresWorkSignalOptions {
  url: string;
  /** This process's node: its own notifications are not news to it. */
  node: string;
  /** Told of connection errors it recovers from (a database restart). */
  onError?: (error: Error) => void;
}

/**
 * Work signals between the processes that share one PostgreSQL database: LISTEN on a session of
 * its own (outside the store's pool), reconnected with backoff. Within the process it is a call,
 * as in embedded mode. A notification sent while the session was down is lost: after reconnecting
 * it tells its listeners that work may be ready, and executors poll besides.
 */
export class PostgresWorkSignal extends InProcessWorkSignal {
  override readonly reachesOthers = true;
  readonly #url: string;
  readonly #node: string;
  readonly #onError: (error: Error) => void;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = RECONNECT_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;

  private constructor(options: PostgresWorkSignalOptions) {
    super((error) => options.onError?.(error as Error));
    this.#url = options.url;
    this.#node = options.node;
    this.#onError = options.onError ?? (() => {});
  }

  /** Resolves once it listens (rejects when the database cannot be reached). */
  static async open(options: PostgresWorkSignalOptions): Promise<PostgresWorkSignal> {
    const signal = new PostgresWorkSignal(options);
    await signal.#connect();
    return signal;
  }

  /** Every process's listeners, this one's included, hear that work may be ready. */
  override async mayBeReady(): Promise<void> {
    this.heard();
    const client = this.#client;
    if (client === undefined) throw new Error("the work signal's session is down; it reconnects by itself");
    await client.query("SELECT pg_notify($1, $2)", [WORK_CHANNEL, this.#node]);
  }

  override async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
    await super.close();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: "taskexec-work" });
    client.on("notification", (message) => {
      if (message.channel === WORK_CHANNEL && message.payload !== this.#node) this.heard();
    });
    const lost = (error?: Error) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => {});
      if (error) this.#onError(error);
      this.#reconnectLater();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#retryMs = RECONNECT_MIN_MS;
  }

  #reconnectLater(): void {
    if (this.#closed) return;
    const delay = this.#retryMs * (0.5 + Math.random());
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
    this.#retryTimer = setTimeout(() => {
      this.#connect().then(
        // What was notified while no session listened is lost: look for work now.
        () => this.heard(),
        (error: unknown) => {
          this.#onError(error as Error);
          this.#reconnectLater();
        },
      );
    }, delay);
  }
}
