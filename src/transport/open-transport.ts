import type { ObservedStatus } from "../domain/records.js";
import { InProcessWorkSignal } from "./memory/in-process-work-signal.js";
import { PostgresStatusFeed } from "./postgres/postgres-status-feed.js";
import { PostgresWorkSignal } from "./postgres/postgres-work-signal.js";
import type { StatusFeed } from "./status-feed.js";
import type { WorkSignal } from "./work-signal.js";

/** The transports that go with a store. */
export interface StoreTransports {
  work: WorkSignal;
  /** Undefined where no other process writes the store (embedded mode). */
  others: StatusFeed | undefined;
}

/**
 * The work signal and status feed that go with a store: in process for SQLite (one process per
 * file), over LISTEN/NOTIFY for a PostgreSQL database that several processes share (`read` is
 * the store's `observeStatuses`).
 */
export async function openStoreTransports(
  storeUrl: string,
  context: {
    node: string;
    read: ((keys: readonly [string, number][]) => Promise<ObservedStatus[]>) | undefined;
    onError?: (error: Error) => void;
  },
): Promise<StoreTransports> {
  const onError = context.onError ?? (() => {});
  if (!/^postgres(ql)?:\/\//.test(storeUrl) || context.read === undefined)
    return { work: new InProcessWorkSignal((error) => onError(error as Error)), others: undefined };
  const work = await PostgresWorkSignal.open({ url: storeUrl, node: context.node, onError });
  try {
    const others = await PostgresStatusFeed.open({
      url: storeUrl,
      node: context.node,
      read: context.read,
      onError,
    });
    return { work, others };
  } catch (error) {
    await work.close();
    throw error;
  }
}
