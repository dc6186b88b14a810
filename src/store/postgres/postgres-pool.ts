import pg from "pg";

/** Type OIDs read as JavaScript numbers: times are epoch milliseconds, far below 2^53. */
const INT8 = 20;
const bigintAsNumber = (text: string): number => Number(text);

export interface PoolOptions {
  /** `postgres://user:password@host:port/database?…` */
  url: string;
  /** Connections at most. @default 10 */
  max?: number;
  /** Called with errors of idle connections (a server restart): logged, never fatal. */
  onError?: (error: Error) => void;
}

/**
 * A connection pool for the store: BIGINT columns come back as numbers, and an error on a
 * connection (the server went away), idle or checked out, never brings the process down (one on
 * an idle connection is reported); the pool opens new connections when the server is back.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: "taskexec",
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Nothing may hold back vacuum or a lock for long: statements and idle transactions end.
    statement_timeout: 30_000,
    idle_in_transaction_session_timeout: 30_000,
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === INT8
          ? bigintAsNumber
          : (pg.types.getTypeParser(oid, format) as (
              text: string,
            ) => unknown)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on("error", (error) => options.onError?.(error));
  // A connection the server ends while it is checked out and between two queries (a transaction
  // waiting for the broker's confirms, a restart of the server) emits 'error' with no query to
  // fail: the pool listens only to idle ones, and an 'error' no one listens to ends the process.
  // Its holder learns of it at its next query, and the pool drops it when released.
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/** The URL without its password, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}
