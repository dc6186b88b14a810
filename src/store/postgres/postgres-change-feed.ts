import pg from "pg";
import type { ObservedStatus } from "../../domain/records.js";
import type { OtherWriters } from "../task-store.js";

/** The channel insert_tasks.sql and update_tasks.sql notify: "<node> <task>:<seq>,…". */
const CHANNEL = "taskexec_status";
/** Statuses read per query. */
const READ_BATCH = 1_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * Reads a notification's payload into the (task, sequence) keys it names; undefined for one this
 * node wrote (or one it cannot read).
 */
export function readNotice(payload: string, ownNode: string): [string, number][] | undefined {
  const space = payload.indexOf(" ");
  if (space < 0 || payload.slice(0, space) === ownNode) return undefined;
  const keys: [string, number][] = [];
  for (const item of payload.slice(space + 1).split(",")) {
    const colon = item.lastIndexOf(":");
    const sequence = Number(item.slice(colon + 1));
    if (colon > 0 && Number.isInteger(sequence)) keys.push([item.slice(0, colon), sequence]);
  }
  return keys;
}

/**
 * What the other processes on one database write, as this process hears it: a session that
 * LISTENs (a connection of its own, outside the pool), and reads the statuses each notification
 * names, in the order the notifications came (each task's statuses in sequence order).
 * NOTIFY is a hint: a notification lost while the session was down is made up for by the
 * watchers' re-reads (and work that became ready meanwhile, by the work signal's own session).
 */
export class PostgresChangeFeed {
  readonly #url: string;
  readonly #node: string;
  readonly #listener: OtherWriters;
  readonly #read: (keys: readonly [string, number][]) => Promise<ObservedStatus[]>;
  readonly #onError: (error: Error) => void;
  #client: pg.Client | undefined;
  #closed = false;
  #retryMs = RECONNECT_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Keys heard and not read yet, in the order heard; one read at a time keeps that order. */
  #pending: [string, number][] = [];
  #reading: Promise<void> | undefined;

  constructor(options: {
    url: string;
    node: string;
    listener: OtherWriters;
    read: (keys: readonly [string, number][]) => Promise<ObservedStatus[]>;
    onError: (error: Error) => void;
  }) {
    this.#url = options.url;
    this.#node = options.node;
    this.#listener = options.listener;
    this.#read = options.read;
    this.#onError = options.onError;
  }

  /** Resolves once the first session listens (rejects if it cannot connect). */
  async start(): Promise<void> {
    await this.#connect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
    await this.#reading;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: "taskexec-listen" });
    client.on("notification", (message) => {
      if (message.channel === CHANNEL && message.payload !== undefined) this.#heard(message.payload);
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
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
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
        // Statuses notified while no session listened are not heard: watchers re-read the store.
        () => {},
        (error: unknown) => {
          this.#onError(error as Error);
          this.#reconnectLater();
        },
      );
    }, delay);
  }

  #heard(payload: string): void {
    const keys = readNotice(payload, this.#node);
    if (keys === undefined) return;
    for (const key of keys) this.#pending.push(key);
    this.#drain();
  }

  #drain(): void {
    if (this.#reading !== undefined) return;
    this.#reading = this.#readPending().finally(() => {
      this.#reading = undefined;
      if (this.#pending.length > 0 && !this.#closed) this.#drain();
    });
  }

  async #readPending(): Promise<void> {
    while (this.#pending.length > 0 && !this.#closed) {
      const keys = this.#pending.splice(0, READ_BATCH);
      try {
        const statuses = await this.#read(keys);
        if (statuses.length > 0) this.#listener.statuses(statuses);
      } catch (error) {
        // Those statuses are not delivered live; watchers re-read what they miss.
        this.#onError(error as Error);
      }
    }
  }
}
