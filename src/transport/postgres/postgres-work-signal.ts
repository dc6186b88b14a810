import { InProcessWorkSignal } from "../memory/in-process-work-signal.js";
import { ListenSession } from "./listen-session.js";

/**
 * The channel of work signals on a shared PostgreSQL database; the payload is the sending node.
 * The store's writes that make tasks ready notify it in the same statement (insert_tasks.sql,
 * update_tasks.sql), so other processes hear of work exactly when it commits.
 */
export const WORK_CHANNEL = "taskexec_work";

export interface PostgresWorkSignalOptions {
  url: string;
  /** This process's node: its own notifications are not news to it. */
  node: string;
  /** Told of connection errors it recovers from (a database restart). */
  onError?: (error: Error) => void;
}

/**
 * Work signals between the processes that share one PostgreSQL database, over LISTEN/NOTIFY (a
 * {@link ListenSession}). Within the process it is a call, as in embedded mode. A notification
 * sent while the session was down is lost: after reconnecting it tells its listeners that work may
 * be ready, and executors poll besides.
 */
export class PostgresWorkSignal extends InProcessWorkSignal {
  override readonly reachesOthers = true;
  readonly #node: string;
  #session: ListenSession | undefined;

  private constructor(options: PostgresWorkSignalOptions) {
    super((error) => options.onError?.(error as Error));
    this.#node = options.node;
  }

  /** Resolves once it listens (rejects when the database cannot be reached). */
  static async open(options: PostgresWorkSignalOptions): Promise<PostgresWorkSignal> {
    const signal = new PostgresWorkSignal(options);
    signal.#session = await ListenSession.open({
      url: options.url,
      channel: WORK_CHANNEL,
      applicationName: "taskexec-work",
      onNotification: (payload) => payload !== signal.#node && signal.heard(),
      // What was notified while no session listened is lost: look for work now.
      onReconnected: () => signal.heard(),
      onError: options.onError ?? (() => {}),
    });
    return signal;
  }

  /** Every process's listeners, this one's included, hear that work may be ready. */
  override async mayBeReady(): Promise<void> {
    this.heard();
    await this.#session!.notify(this.#node);
  }

  override async close(): Promise<void> {
    await this.#session?.close();
    await super.close();
  }
}
