// One api-and-workers cluster per test (distributed mode): a database and a vhost of its own, a
// folder for the processes' data and the run logs the fixture handlers write, and the calls the
// fault tests share. Register it in a describe block; its fields are fresh in every test.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { adminHeaders, type Member, startDistributed, waitFor, withDatabase } from "./cluster.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { createTestVhost, type TestVhost } from "./rabbitmq.js";
import { killServes } from "./serve.js";
import { tempDir } from "./temp.js";

/** Heartbeats, polls and leases short enough for tests. */
export const QUICK = { TASKEXEC_HEARTBEAT_MS: "300", TASKEXEC_POLL_MS: "300", TASKEXEC_LEASE_MS: "3000" };

export interface DistributedCluster {
  db: TestDatabase;
  vhost: TestVhost;
  /** The test's folder. */
  dir: string;
  /** Where the fixture handlers log each run ("<task id> <attempt> <pid>") and each finished run. */
  runLog: string;
  spans: string;
  /** Starts `taskexec api` or `worker` with QUICK timings, the run logs and `env`, loading `args`. */
  start(
    command: "api" | "worker",
    name: string,
    env?: Record<string, string>,
    args?: string[],
  ): Promise<Member>;
  /** Tasks per state, from the database. */
  countStates(): Promise<Record<string, number>>;
  get(member: Member, path: string): Promise<Record<string, unknown>>;
  post(
    member: Member,
    path: string,
    body: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Waits until `api` lists `n` live workers (their resource statuses came). */
  liveWorkers: (api: Member, n: number) => Promise<void>;
}

/** Registers the cluster's setup and teardown; `args` are the processes' default arguments. */
export function useDistributedCluster(defaultArgs: string[]): DistributedCluster {
  const cluster = {
    start: (command, name, env = {}, args = defaultArgs) =>
      startDistributed(
        command,
        cluster.dir,
        name,
        { database: cluster.db.url, broker: cluster.vhost.url },
        { RUN_LOG: cluster.runLog, RUN_SPANS: cluster.spans, ...QUICK, ...env },
        args,
      ),
    countStates: () =>
      withDatabase(cluster.db.url, async (c) => {
        const { rows } = await c.query<{ state: string; n: number }>(
          "SELECT state, count(*)::int AS n FROM tasks GROUP BY state",
        );
        return Object.fromEntries(rows.map((r) => [r.state, r.n]));
      }),
    get: async (member, path) =>
      (await (await fetch(`${member.url}${path}`, { headers: await adminHeaders() })).json()) as Record<
        string,
        unknown
      >,
    post: async (member, path, body) => {
      const response = await fetch(`${member.url}${path}`, {
        method: "POST",
        headers: await adminHeaders(),
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    liveWorkers: (api, n) =>
      waitFor(`${n} live workers`, async () => {
        const { nodes } = (await cluster.get(api, "/v1/resources")) as { nodes: { alive: boolean }[] };
        return nodes.filter((node) => node.alive).length === n;
      }),
  } as DistributedCluster;
  let remove = () => {};
  beforeEach(async () => {
    [cluster.db, cluster.vhost] = await Promise.all([createTestDatabase(), createTestVhost()]);
    const tmp = tempDir();
    remove = () => tmp.remove();
    cluster.dir = tmp.dir;
    cluster.runLog = join(tmp.dir, "runs.log");
    cluster.spans = join(tmp.dir, "spans.log");
    writeFileSync(cluster.runLog, "");
    writeFileSync(cluster.spans, "");
  });
  afterEach(async () => {
    killServes();
    await Promise.all([cluster.db.drop(), cluster.vhost.remove()]);
    remove();
  });
  return cluster;
}
