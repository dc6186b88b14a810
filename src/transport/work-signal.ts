import type { ReadyWork } from "../domain/records.js";

/** Told that work is ready: this process's workers listen. Must not throw. */
export interface WorkListener {
  /** Tasks became ready in this process (see {@link ReadyWork} for when they are written). */
  ready(work: ReadyWork): void;
  /** Work may be ready that no `ready` named: another process made it, or news was lost. Look for it. */
  mayBeReady(): void;
}

/** Ends listening. */
export type StopListening = () => Promise<void>;

/**
 * The work side of the Transport port: tells executors that work may be ready, so that they claim
 * it at once instead of at their next poll. In process it is a call; on a shared PostgreSQL store,
 * LISTEN/NOTIFY; with a broker, a queue. It is a hint, never the only way work is found: executors
 * also poll the store, so a signal lost (a connection down) delays work and loses none.
 *
 * `ready` reaches this process's listeners at once, with the tasks; the other processes hear of
 * work by the backend's own means (a store sharing one database notifies them in the statement
 * that writes it) or through `mayBeReady`, which reaches every listener of every process. With a
 * broker (`goesThroughBroker`), work reaches every process, this one included, only as the broker
 * delivers it.
 * `test/contract/work-signal.contract.ts` is the definition of this port.
 */
export interface WorkSignal {
  /** Whether `mayBeReady` reaches other processes (false: this process is the only executor). */
  readonly reachesOthers: boolean;
  /**
   * Whether work made ready here goes out to the broker (through the store's outbox) instead of to
   * this process's listeners: `ready` and `mayBeReady` then wake what hands it over, and the
   * listeners hear only what the broker delivers to this process (claimed, `handsOverClaimed`), or
   * nothing where this process takes no work from the broker (an api).
   */
  readonly goesThroughBroker: boolean;
  /**
   * Whether the work it hands its listeners is claimed for this process already, and the only work
   * this process is to take (a broker's queue): the store is then not read for more, and each
   * task handed over is reported back with `taken` once the listener started it or let it go.
   */
  readonly handsOverClaimed: boolean;
  ready(work: ReadyWork): void;
  /** The listener is done with these tasks it was handed (it started them, or let them go). */
  taken(taskIds: readonly string[]): void;
  mayBeReady(): Promise<void>;
  /**
   * Whether the transport holds no work waiting to be handed out (a broker's queue is empty): ready
   * tasks that stayed unclaimed a while are then announced again. Absent where it cannot tell.
   */
  carriesNoWork?(): Promise<boolean>;
  /** Resolves once `listener` listens, to the function that ends it. */
  listen(listener: WorkListener): Promise<StopListening>;
  close(): Promise<void>;
}
