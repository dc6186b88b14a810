import type { MigrationProgress } from "../migration-status.js";
import { StoreConfigError, StoreSchemaError } from "../errors.js";
import { appliedPostgresMigrations, migratePostgres, postgresMigrationNames } from "./postgres-migrator.js";
import { createPool, describeUrl } from "./postgres-pool.js";
import { readPostgresQueries } from "./postgres-queries.js";
import { PostgresTaskStore } from "./postgres-task-store.js";
import type { ValueSeal } from "../sealed-values.js";
import type { ReadyWorkSink } from "../task-store.js";

export interface PostgresStoreOptions {
  /** `postgres://…` */
  url: string;
  /** This process's node: its writes are announced to the others under this name. */
  node: string;
  /** Run pending migrations on open (refused when the schema is newer than this version). @default true */
  migrate?: boolean;
  /** Connections at most. @default 10 */
  maxConnections?: number;
  /** Told of migrations run on open, and of errors of idle connections. */
  onMigrated?: (progress: MigrationProgress) => void;
  onConnectionError?: (error: Error) => void;
  /** Where new tasks are announced as ready work (see ReadyWorkSink). */
  onReady?: ReadyWorkSink | undefined;
  /** Ready work also goes to the work outbox, for the broker (distributed mode). @default false */
  outbox?: boolean | undefined;
  /** How values that may be secret are kept (encryption at rest). @default in clear */
  seal?: ValueSeal | undefined;
}

/** Opens a PostgreSQL task store, migrating an empty or older schema to this version's. */
export async function openPostgresTaskStore(options: PostgresStoreOptions): Promise<PostgresTaskStore> {
  const pool = createPool({
    url: options.url,
    max: options.maxConnections,
    onError: options.onConnectionError,
  });
  try {
    const known = postgresMigrationNames();
    const applied = await appliedPostgresMigrations(pool).then(
      (rows) => rows.map((r) => r.name),
      (error: unknown) => {
        throw new StoreConfigError(
          `store.url: cannot reach PostgreSQL at ${describeUrl(options.url)}: ${(error as Error).message}`,
          { cause: error },
        );
      },
    );
    const unknown = applied.filter((name) => !known.includes(name));
    if (unknown.length > 0) throw new StoreSchemaError(describeUrl(options.url), unknown);
    const pending = known.filter((name) => !applied.includes(name));
    if (pending.length > 0 && options.migrate !== false) {
      const { error, results } = await migratePostgres(pool, "latest");
      if (error) throw error instanceof Error ? error : new Error("migration failed", { cause: error });
      const done = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
      options.onMigrated?.({ from: applied[applied.length - 1], applied: done });
    }
    return new PostgresTaskStore(pool, readPostgresQueries(), {
      node: options.node,
      url: options.url,
      onConnectionError: options.onConnectionError,
      onReady: options.onReady,
      outbox: options.outbox,
      seal: options.seal,
    });
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
}
