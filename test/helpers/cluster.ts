import { join } from "node:path";
import pg from "pg";
import { signToken } from "../../src/security/token-signer.js";
import { freePort, serve, serveEnv, type ServeProcess } from "./serve.js";
import { TEST_SECRET } from "./service.js";

/** A `serve` process of a cluster on one PostgreSQL database, and how to reach it. */
export interface Member {
  process: ServeProcess;
  url: string;
  port: number;
}

/** Starts `serve` on `databaseUrl` with its own data folder under `dir`; `extra` adds variables. */
export async function startMember(
  dir: string,
  name: string,
  databaseUrl: string,
  extra: Record<string, string> = {},
  args: string[] = [],
): Promise<Member> {
  const port = await freePort();
  const env = serveEnv(join(dir, name), port, { TASKEXEC_STORE__URL: databaseUrl, ...extra });
  const process = serve(env, args);
  await process.ready;
  return { process, url: `http://127.0.0.1:${port}`, port };
}

/**
 * Starts `taskexec api` or `taskexec worker` (distributed mode) on `databaseUrl` and `brokerUrl`,
 * with its own data folder under `dir` and its own port; `extra` adds variables.
 */
export async function startDistributed(
  command: "api" | "worker",
  dir: string,
  name: string,
  urls: { database: string; broker: string },
  extra: Record<string, string> = {},
  args: string[] = [],
): Promise<Member> {
  const port = await freePort();
  const env = serveEnv(join(dir, name), port, {
    TASKEXEC_STORE__URL: urls.database,
    TASKEXEC_MESSAGE_BROKER_URL: urls.broker,
    // A worker's health port is worker.port (http.port is the api's).
    ...(command === "worker" ? { TASKEXEC_WORKER__PORT: String(port) } : {}),
    ...extra,
  });
  const process = serve(env, args, command);
  await process.ready;
  return { process, url: `http://127.0.0.1:${port}`, port };
}

/**
 * The status a member answers on `path` (`/readyz`, `/healthz`). A kept-alive socket the member
 * closed as the request went out is tried once more on a new one; a member that exited, or that
 * fails twice, fails the probe with what it printed (which process, and why, not "fetch failed").
 */
export async function probe(member: Member, path: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await fetch(`${member.url}${path}`, { signal: AbortSignal.timeout(10_000) })).status;
    } catch (error) {
      const { child } = member.process;
      if (attempt < 2 && child.exitCode === null && child.signalCode === null) continue;
      const { stdout, stderr } = member.process.output();
      const state =
        child.exitCode === null && child.signalCode === null
          ? `pid ${child.pid} alive`
          : `exited ${child.exitCode ?? child.signalCode}`;
      throw new Error(`${member.url}${path} failed (${state}): ${(stdout + stderr).slice(-4_000)}`, {
        cause: error,
      });
    }
  }
}

/** Headers of an admin of the cluster (all members sign with TEST_SECRET). */
export async function adminHeaders(): Promise<Record<string, string>> {
  const token = await signToken(TEST_SECRET, { sub: "tester", roles: ["admin"], ttl: "30m" });
  return { authorization: `Bearer ${token}`, "content-type": "application/json" };
}

/** A submit_task envelope. */
export function submitMessage(
  type: string,
  parameters: Record<string, unknown>,
  messageId: string,
  priority = 5,
) {
  return {
    type: "submit_task",
    header: { message_id: messageId, timestamp: new Date().toISOString() },
    body: { task_specification: { type, parameters }, priority },
  };
}

/** Runs `use` with a connection to the cluster's database (for checks the API does not offer). */
export async function withDatabase<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Polls `check` every `everyMs` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 100,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Every task's status log: gapless (sequences 1..n), one terminal status, at the end. Returns
 * the tasks whose log is not, with what is wrong.
 */
export async function brokenLogs(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ id: string; seqs: number[]; states: string[] }>(
    `SELECT t.id, array_agg(e.sequence ORDER BY e.sequence) AS seqs,
            array_agg(e.status ORDER BY e.sequence) AS states
     FROM tasks t JOIN task_events e ON e.task_id = t.id GROUP BY t.id`,
  );
  const terminal = new Set(["completed", "failed", "rejected", "cancelled"]);
  const broken: string[] = [];
  for (const { id, seqs, states } of rows) {
    if (seqs.some((s, i) => s !== i + 1)) broken.push(`${id}: sequences ${seqs.join(",")}`);
    const ends = states.filter((s) => terminal.has(s)).length;
    if (ends !== 1 || !terminal.has(states[states.length - 1]!))
      broken.push(`${id}: states ${states.join(",")}`);
  }
  return broken;
}
