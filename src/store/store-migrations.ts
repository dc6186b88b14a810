import { resolve } from "node:path";
import type { MigrationResultSet } from "kysely";
import { StoreConfigError } from "./errors.js";
import type { AppliedMigration, MigrationTarget } from "./migration-status.js";
import {
  appliedPostgresMigrations,
  migratePostgres,
  postgresMigrationNames,
} from "./postgres/postgres-migrator.js";
import { createPool, describeUrl } from "./postgres/postgres-pool.js";
import { lockSqliteFile } from "./sqlite/sqlite-file-lock.js";
import { appliedSqliteMigrations, migrateSqlite, sqliteMigrationNames } from "./sqlite/sqlite-migrator.js";

/** One migration as `migrate status` shows it. */
export interface MigrationRow {
  name: string;
  /** When it was applied; undefined when it is not. */
  appliedAt: Date | undefined;
  /** Applied to the store but unknown to this version (the schema is newer). */
  unknown?: boolean;
}

/** What a migration run did: the migrations applied (up) or reverted (down), in order. */
export interface MigrationRun {
  direction: "up" | "down";
  done: string[];
}

/** A store's schema, for `taskexec migrate`: either backend, through one interface. */
export interface StoreMigrations {
  /** The store, as messages name it (no password). */
  readonly where: string;
  /** The migrations this version knows, in order. */
  readonly known: readonly string[];
  status(): Promise<MigrationRow[]>;
  run(target: MigrationTarget): Promise<MigrationRun>;
  /**
   * The processes that recorded a heartbeat since `since` (a shared store: they use it now, and a
   * schema moved under them breaks them); none for a SQLite file, which no process holds meanwhile.
   */
  liveNodes(since: number): Promise<string[]>;
  close(): Promise<void>;
}

/** Opens the schema of the store a `store.url` names (a SQLite file is locked meanwhile: no serve may use it). */
export function openStoreMigrations(url: string, baseDir = process.cwd()): StoreMigrations {
  if (url.startsWith("sqlite:")) {
    const path = resolve(baseDir, url.slice("sqlite:".length));
    const lock = lockSqliteFile(path);
    const known = sqliteMigrationNames();
    return {
      where: path,
      known,
      status: () => Promise.resolve(statusRows(known, appliedSqliteMigrations(path))),
      run: async (target) => outcome(await migrateSqlite(path, target)),
      liveNodes: () => Promise.resolve([]),
      close: () => Promise.resolve(lock.release()),
    };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = createPool({ url, max: 2 });
    const known = postgresMigrationNames();
    return {
      where: describeUrl(url),
      known,
      status: async () => statusRows(known, await appliedPostgresMigrations(pool)),
      run: async (target) => outcome(await migratePostgres(pool, target)),
      liveNodes: async (since) => {
        const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('nodes')::text AS t");
        if (exists.rows[0]?.t == null) return [];
        const { rows } = await pool.query<{ node: string }>(
          "SELECT node FROM nodes WHERE heartbeat_at >= $1 ORDER BY node",
          [since],
        );
        return rows.map((r) => r.node);
      },
      close: () => pool.end(),
    };
  }
  throw new StoreConfigError(`store.url: unsupported store "${url}" (use sqlite:<path> or postgres://…)`);
}

/** Every migration this version knows, applied or not, then those applied that it does not know. */
function statusRows(known: readonly string[], applied: readonly AppliedMigration[]): MigrationRow[] {
  const at = new Map(applied.map((m) => [m.name, m.appliedAt]));
  return [
    ...known.map((name) => ({ name, appliedAt: at.get(name) })),
    ...applied.filter((m) => !known.includes(m.name)).map((m) => ({ ...m, unknown: true })),
  ];
}

function outcome({ error, results }: MigrationResultSet): MigrationRun {
  if (error) throw error instanceof Error ? error : new Error("migration failed", { cause: error });
  const done = (results ?? []).filter((r) => r.status === "Success");
  return { direction: done[0]?.direction === "Down" ? "down" : "up", done: done.map((r) => r.migrationName) };
}
