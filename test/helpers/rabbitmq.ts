import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import amqplib from "amqplib";
import { EXCHANGES } from "../../src/transport/amqp/topology.js";

const run = promisify(execFile);

/** The broker the RabbitMQ tests use; TEST_RABBITMQ_URL points elsewhere (its vhost is replaced by one per test). */
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";

async function reachable(): Promise<boolean> {
  try {
    const connection = await amqplib.connect(RABBITMQ_URL, { timeout: 3_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the RabbitMQ tests can run. Under CI an unreachable broker fails the run instead;
 * elsewhere the tests are skipped with this message.
 */
export async function rabbitForTests(): Promise<boolean> {
  if (await reachable()) return true;
  if (process.env.CI) throw new Error(`RabbitMQ is not reachable at ${RABBITMQ_URL}: CI must start it`);
  console.warn(`skipping the RabbitMQ tests: no broker at ${RABBITMQ_URL} (set TEST_RABBITMQ_URL)`);
  return false;
}

export interface TestVhost {
  url: string;
  name: string;
  remove: () => Promise<void>;
}

/** A new, empty vhost of its own (by `rabbitmqctl`), and a function that deletes it with all it holds. */
export async function createTestVhost(): Promise<TestVhost> {
  const name = `taskexec_test_${randomBytes(6).toString("hex")}`;
  await run("rabbitmqctl", ["add_vhost", name]);
  const user = decodeURIComponent(new URL(RABBITMQ_URL).username || "guest");
  await run("rabbitmqctl", ["set_permissions", "-p", name, user, ".*", ".*", ".*"]);
  const url = new URL(RABBITMQ_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return {
    url: url.toString(),
    name,
    remove: () => run("rabbitmqctl", ["delete_vhost", name]).then(() => {}),
  };
}

/** Closes every client connection to `vhost`, as a broker restart would. */
export async function closeConnections(vhost: string): Promise<void> {
  const { stdout } = await run("rabbitmqctl", [
    "list_connections",
    "-q",
    "--no-table-headers",
    "pid",
    "vhost",
  ]);
  const pids = stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([pid, host]) => pid && host === vhost)
    .map(([pid]) => pid!);
  for (const pid of pids) await run("rabbitmqctl", ["close_connection", pid, "test: connection cut"]);
}

/**
 * Keeps every client out of `vhost` (its permissions cleared, its connections closed), as a
 * broker away for a while would; resolves to the function that lets them in again.
 */
export async function shutOut(vhost: string): Promise<() => Promise<void>> {
  const user = decodeURIComponent(new URL(RABBITMQ_URL).username || "guest");
  await run("rabbitmqctl", ["clear_permissions", "-p", vhost, user]);
  await closeConnections(vhost);
  return async () => {
    await run("rabbitmqctl", ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]);
  };
}

/**
 * A queue of the test's own on `vhost`, bound to every status on `taskexec.status`, that outlives
 * the connections a test cuts (not exclusive); resolves to its name. The topology must exist.
 */
export async function observeStatuses(url: string): Promise<string> {
  const connection = await amqplib.connect(url);
  try {
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue("observed", { durable: false });
    await channel.bindQueue(queue, EXCHANGES.status, "#");
    return queue;
  } finally {
    await connection.close();
  }
}
