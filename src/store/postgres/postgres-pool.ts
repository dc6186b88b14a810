import pg from "pg";
import { StoreUnavailableError } from "../errors.js";

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
  pool.on("connect", (client) => {
    client.on("error", () => {});
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = query(...args);
      return result instanceof Promise ? result.catch(rethrowUnavailable) : result;
    }) as typeof client.query;
  });
  // What cannot reach the server says so in the store's words (callers answer 503, not 500):
  // pool.query (it runs on a client in callback form, which the wrapper above passes by),
  // pool.connect, and the queries of a checked-out client (above).
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const result = poolQuery(...args);
    return result instanceof Promise ? result.catch(rethrowUnavailable) : result;
  }) as typeof pool.query;
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  pool.connect = (async (...args: unknown[]) => {
    if (args.length > 0) return (connect as (...a: unknown[]) => unknown)(...args);
    return connect().catch(rethrowUnavailable);
  }) as typeof pool.connect;
  return pool;
}

/** SQLSTATE classes and socket errors that mean the server is away, not that a statement failed. */
const AWAY_SQLSTATES = /^(08|57P0[1-3]|53300)/;
const AWAY_SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);
const AWAY_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/;

function rethrowUnavailable(error: unknown): never {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const away =
    (typeof code === "string" && (AWAY_SQLSTATES.test(code) || AWAY_SOCKET_CODES.has(code))) ||
    (typeof message === "string" && AWAY_MESSAGES.test(message));
  throw away ? new StoreUnavailableError({ cause: error }) : error;
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
