import { resolve } from "node:path";
import { StoreConfigError } from "./errors.js";
import type { MigrationProgress } from "./migration-status.js";
import { openPostgresTaskStore } from "./postgres/open-postgres-store.js";
import { openSqliteTaskStore } from "./sqlite/sqlite-task-store.js";
import type { ValueSeal } from "./sealed-values.js";
import type { ReadyWorkSink, TaskStore } from "./task-store.js";

/** The `store` options (config.yaml's `store` key, compiled). */
export interface StoreOptions {
  url: string;
  synchronous?: "full" | "normal";
  max_connections?: number;
}

export interface OpenStoreContext {
  /** This process's node (the name its writes go under where several processes share a store). */
  node: string;
  baseDir?: string;
  /** Told of migrations the store ran by itself as it opened. */
  onMigrated?: (progress: MigrationProgress) => void;
  /** Told of connection errors the store recovers from (a database server restart). */
  onConnectionError?: (error: Error) => void;
  /** Where the store announces the tasks each submission creates (the work signal's `ready`). */
  onReady?: ReadyWorkSink;
  /**
   * Distributed mode: ready work is also written to the outbox, for the relay to hand to the
   * broker (PostgreSQL only).
   */
  outbox?: boolean;
  /** How values that may be secret are kept: sealed under the data key (encryption at rest), or in clear. */
  seal?: ValueSeal | undefined;
}

/**
 * Opens the store a `store.url` names: `sqlite:<path>` (embedded, one process per file) or
 * `postgres://…` (any number of processes on one database).
 */
export async function openStore(options: StoreOptions, context: OpenStoreContext): Promise<TaskStore> {
  const url = options.url;
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path.length === 0)
      throw new StoreConfigError("store.url: sqlite: needs a file path, e.g. sqlite:data/taskexec.db");
    return openSqliteTaskStore({
      path: resolve(context.baseDir ?? process.cwd(), path),
      synchronous: options.synchronous,
      onMigrated: context.onMigrated,
      onReady: context.onReady,
      seal: context.seal,
    });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return openPostgresTaskStore({
      url,
      node: context.node,
      maxConnections: options.max_connections,
      onMigrated: context.onMigrated,
      onConnectionError: context.onConnectionError,
      onReady: context.onReady,
      outbox: context.outbox,
      seal: context.seal,
    });
  }
  throw new StoreConfigError(`store.url: unsupported store "${url}" (use sqlite:<path> or postgres://…)`);
}
