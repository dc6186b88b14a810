import type { ObservedStatus } from "../../domain/records.js";
import type { FeedOptions, OthersListener, StatusFeed } from "../status-feed.js";
import type { StopListening } from "../work-signal.js";
import { ListenSession } from "./listen-session.js";

/** The channel insert_tasks.sql and update_tasks.sql notify: "<node> <task>:<seq>,…". */
export const STATUS_CHANNEL = "taskexec_status";
/** Statuses read per query. */
const READ_BATCH = 1_000;

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

export interface PostgresStatusFeedOptions {
  url: string;
  /** This process's node: its own statuses are not news to it. */
  node: string;
  /** Reads the statuses a notification names, with their tasks' facts (the store's `observeStatuses`). */
  read: (keys: readonly [string, number][]) => Promise<ObservedStatus[]>;
  onError: (error: Error) => void;
}

/**
 * What the other processes on one database write, as this process hears it: a LISTEN session,
 * and a read of the statuses each notification names, in the order the notifications came (each
 * task's statuses in sequence order). A notification lost while the session was down is made up
 * for by the watchers' re-reads.
 */
export class PostgresStatusFeed implements StatusFeed {
  readonly #options: PostgresStatusFeedOptions;
  readonly #listeners = new Map<OthersListener, FeedOptions["only"]>();
  #session: ListenSession | undefined;
  #closed = false;
  /** Keys heard and not read yet, in the order heard; one read at a time keeps that order. */
  #pending: [string, number][] = [];
  #reading: Promise<void> | undefined;

  private constructor(options: PostgresStatusFeedOptions) {
    this.#options = options;
  }

  /** Resolves once it listens (rejects when the database cannot be reached). */
  static async open(options: PostgresStatusFeedOptions): Promise<PostgresStatusFeed> {
    const feed = new PostgresStatusFeed(options);
    feed.#session = await ListenSession.open({
      url: options.url,
      channel: STATUS_CHANNEL,
      applicationName: "taskexec-listen",
      onNotification: (payload) => feed.#heard(payload),
      onReconnected: () => {},
      onError: options.onError,
    });
    return feed;
  }

  listen(listener: OthersListener, options: FeedOptions = {}): Promise<StopListening> {
    this.#listeners.set(listener, options.only);
    return Promise.resolve(() => {
      this.#listeners.delete(listener);
      return Promise.resolve();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#session?.close();
    await this.#reading;
  }

  #heard(payload: string): void {
    if (this.#listeners.size === 0) return;
    const keys = readNotice(payload, this.#options.node);
    if (keys === undefined) return;
    // Listeners that want only some tasks: the rest is not read at all.
    const filters = [...this.#listeners.values()];
    const wanted = filters.includes(undefined)
      ? keys
      : keys.filter(([taskId]) => filters.some((only) => only!(taskId)));
    for (const key of wanted) this.#pending.push(key);
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
        const observed = await this.#options.read(keys);
        if (observed.length === 0) continue;
        for (const [listener, only] of this.#listeners) {
          const theirs =
            only === undefined ? observed : observed.filter((o) => only(o.status.header.task_id!));
          if (theirs.length === 0) continue;
          try {
            listener(theirs);
          } catch (error) {
            this.#options.onError(error as Error);
          }
        }
      } catch (error) {
        // Those statuses are not delivered live; watchers re-read what they miss.
        this.#options.onError(error as Error);
      }
    }
  }
}
