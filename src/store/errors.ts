import type { TaskState } from "../protocol/states.js";

/** A compare-and-set change found the task in another state than expected: a lost race. */
export class StaleStateError extends Error {
  override readonly name: string = "StaleStateError";
  constructor(
    readonly taskId: string,
    readonly expected: readonly TaskState[],
    readonly actual: TaskState | undefined,
  ) {
    super(
      actual === undefined
        ? `task ${taskId} does not exist`
        : `task ${taskId} is ${actual}, expected ${expected.join(" or ")}`,
    );
  }
}

/** A change by a lease holder found the lease with another owner or attempt: it was lost. */
export class LeaseLostError extends StaleStateError {
  override readonly name = "LeaseLostError";
  constructor(taskId: string, expected: readonly TaskState[], actual: TaskState, holder: string) {
    super(taskId, expected, actual);
    this.message = `task ${taskId}: ${holder} no longer holds its lease for this attempt`;
  }
}

/** The store URL or file cannot be used; says which and why. */
export class StoreConfigError extends Error {
  override readonly name = "StoreConfigError";
}

/** Another process (or executor) has the SQLite file open: one writer per file. */
export class StoreInUseError extends Error {
  override readonly name = "StoreInUseError";
  constructor(
    readonly path: string,
    /** Who holds it, as it wrote itself down: `pid 123 on host, since …`; undefined if unknown. */
    readonly holder: string | undefined,
  ) {
    super(
      `${path} is in use by ${holder ?? "another process"}. One process serves a SQLite file at a ` +
        "time: stop that one first, give this one another store.url (or data_dir), or run several " +
        "processes on one PostgreSQL database (store.url: postgres://…).",
    );
  }
}

/** The database's schema is newer than this version knows: an older process must not write to it. */
export class StoreSchemaError extends Error {
  override readonly name = "StoreSchemaError";
  constructor(
    readonly where: string,
    readonly unknownMigrations: readonly string[],
  ) {
    super(
      `the store at ${where} has a newer schema than this version of taskexec knows ` +
        `(migrations ${unknownMigrations.join(", ")}): upgrade taskexec, or roll the schema back ` +
        "with the newer version's `taskexec migrate down`",
    );
  }
}

/**
 * The store cannot be reached now (the database server is down, restarting or unreachable):
 * nothing was written, and the same request succeeds once it is back.
 */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
  constructor(options: { cause: unknown }) {
    super(
      `the store is unreachable (${(options.cause as Error | undefined)?.message ?? "no connection"})`,
      options,
    );
  }
}
