import type { ObservedStatus } from "../domain/records.js";
import type { StopListening } from "./work-signal.js";

/** Told of the statuses other processes wrote, each task's in sequence order (a task's may repeat). */
export type OthersListener = (observed: readonly ObservedStatus[]) => void;

export interface FeedOptions {
  /** Whether the listener wants this task's statuses (undefined: every task's). */
  only?: ((taskId: string) => boolean) | undefined;
}

/**
 * What the other processes sharing this one's store write, as statuses with their tasks' facts:
 * so that watchers, SSE streams and the dashboard on any process follow every task, and a cancel
 * that came in elsewhere stops the handler here. Only shared stores have one (embedded mode has
 * no other writer). A hint, like the work signal: what it misses, watchers read from the store.
 */
export interface StatusFeed {
  /**
   * Resolves once `listener` listens, to the function that ends it. With `only`, it is told only
   * of the tasks `only` names (the feed need not read the others).
   */
  listen(listener: OthersListener, options?: FeedOptions): Promise<StopListening>;
  close(): Promise<void>;
}
