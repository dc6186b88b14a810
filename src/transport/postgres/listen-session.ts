import pg from "pg";

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

export interface ListenSessionOptions {
  url: string;
  channel: string;
  /** Names the session in pg_stat_activity. */
  applicationName: string;
  onNotification: (payload: string) => void;
  /** The session is back after being lost: what was notified meanwhile was not heard. */
  onReconnected: () => void;
  /** Told of the errors it recovers from (a database restart). */
  onError: (error: Error) => void;
}

/**
 * A PostgreSQL session that LISTENs on one channel: a client of its own (a pooled connection
 * cannot hold a LISTEN), reconnected with jittered, doubling backoff when it is lost. `pg` has no
 * reconnection of its own.
 */
export class ListenSession {
  readonly #options: ListenSessionOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = RECONNECT_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;

  private constructor(options: ListenSessionOptions) {
    this.#options = options;
  }

  /** Resolves once the session listens (rejects when the database cannot be reached). */
  static async open(options: ListenSessionOptions): Promise<ListenSession> {
    const session = new ListenSession(options);
    await session.#connect();
    return session;
  }

  /** Notifies the channel through this session; rejects while it is down. */
  async notify(payload: string): Promise<void> {
    const client = this.#client;
    if (client === undefined) throw new Error("the LISTEN session is down; it reconnects by itself");
    await client.query("SELECT pg_notify($1, $2)", [this.#options.channel, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const { url, channel, applicationName, onNotification, onError } = this.#options;
    const client = new pg.Client({ connectionString: url, application_name: applicationName });
    client.on("notification", (message) => {
      if (message.channel === channel && message.payload !== undefined) onNotification(message.payload);
    });
    const lost = (error?: Error) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => {});
      if (error) onError(error);
      this.#reconnectLater();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
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
        () => this.#options.onReconnected(),
        (error: unknown) => {
          this.#options.onError(error as Error);
          this.#reconnectLater();
        },
      );
    }, delay);
  }
}
