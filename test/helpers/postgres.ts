import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server the PostgreSQL tests use; TEST_POSTGRES_URL points elsewhere (its database is only used to create others). */
export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Whether the PostgreSQL tests can run. Under CI an unreachable server fails the run instead;
 * elsewhere the tests are skipped with this message.
 */
export async function postgresForTests(): Promise<boolean> {
  if (await reachable()) return true;
  if (process.env.CI)
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL}: CI must start it`);
  console.warn(`skipping the PostgreSQL tests: no server at ${POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL)`);
  return false;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

async function admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database of its own, and a function that drops it (ending its connections). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `taskexec_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Ends the sessions of `database` that `applicationName` opened, as a database restart would. */
export async function terminateSessions(url: string, applicationName: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND pid <> pg_backend_pid()",
      [applicationName],
    );
  } finally {
    await client.end();
  }
}
