import { InProcessWorkSignal } from "./memory/in-process-work-signal.js";
import { PostgresWorkSignal } from "./postgres/postgres-work-signal.js";
import type { WorkSignal } from "./work-signal.js";

/**
 * The work signal that goes with a store: in process for SQLite (one process per file), over
 * LISTEN/NOTIFY for a PostgreSQL database that several processes share.
 */
export async function openWorkSignal(
  storeUrl: string,
  context: { node: string; onError?: (error: Error) => void },
): Promise<WorkSignal> {
  if (/^postgres(ql)?:\/\//.test(storeUrl))
    return PostgresWorkSignal.open({ url: storeUrl, node: context.node, onError: context.onError });
  return new InProcessWorkSignal((error) => context.onError?.(error as Error));
}
