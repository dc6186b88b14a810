// A RabbitMQ node of the test's own (its ports, data folder, plugins and config), for what must
// not touch the machine's shared node: its users and permissions, its management plugin.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import amqplib from "amqplib";
import type { TestCertificates } from "./certificates.js";
import { freePort } from "./serve.js";
import { tempDir } from "./temp.js";

const run = promisify(execFile);
const BIN = "/usr/lib/rabbitmq/bin";

export interface RabbitNode {
  /** `amqp://admin:admin@127.0.0.1:<port>`: the administrator (tag administrator, all permissions on `/`). */
  adminUrl: string;
  /** `http://admin:admin@127.0.0.1:<port>`: the management API. */
  managementUrl: string;
  port: number;
  /** `amqp://user:password@127.0.0.1:<port>` for a user of this node. */
  urlFor(user: string, password: string): string;
  /** With `tls`: `amqps://user:password@localhost:<tls port>`, which asks for a client certificate. */
  tlsUrlFor(user: string, password: string): string;
  /** Runs `rabbitmqctl` against this node. */
  ctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Whether this machine can start a node of its own (RabbitMQ installed where Debian puts it). */
export async function canStartRabbitNode(): Promise<boolean> {
  try {
    await run(`${BIN}/rabbitmqctl`, ["version"], { timeout: 30_000 });
    return true;
  } catch {
    if (process.env.CI)
      throw new Error(`RabbitMQ's ${BIN}/rabbitmqctl is missing: CI must install rabbitmq-server`);
    console.warn(`skipping the tests on a RabbitMQ node of their own: no ${BIN}/rabbitmqctl`);
    return false;
  }
}

/**
 * Starts a node named `taskexec-<port>@localhost` on free ports, with the management plugin, and
 * an `admin` user; stop() ends it and removes its folder. About 10 s on the CI machine. With
 * `tls`, it also listens for amqps, with the server certificate, and verifies clients' against
 * the CA (one without a certificate is refused).
 */
export async function startRabbitNode(options: { tls?: TestCertificates } = {}): Promise<RabbitNode> {
  const [port, managementPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const tlsPort = options.tls === undefined ? 0 : await freePort();
  const tls = options.tls;
  const tmp = tempDir("taskexec-rabbit-");
  const node = `taskexec-${port}@localhost`;
  mkdirSync(join(tmp.dir, "log"));
  writeFileSync(join(tmp.dir, "enabled_plugins"), "[rabbitmq_management].\n");
  writeFileSync(
    join(tmp.dir, "rabbitmq.conf"),
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      `management.tcp.port = ${managementPort}`,
      "management.tcp.ip = 127.0.0.1",
      `distribution.listener.port_range.min = ${distPort}`,
      `distribution.listener.port_range.max = ${distPort}`,
      ...(tls === undefined
        ? []
        : [
            `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
            `ssl_options.cacertfile = ${tls.ca}`,
            `ssl_options.certfile = ${tls.server.cert}`,
            `ssl_options.keyfile = ${tls.server.key}`,
            "ssl_options.verify = verify_peer",
            "ssl_options.fail_if_no_peer_cert = true",
          ]),
      "",
    ].join("\n"),
  );
  writeFileSync(join(tmp.dir, "rabbitmq-env.conf"), "");
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: join(tmp.dir, "rabbitmq-env.conf"),
    RABBITMQ_CONFIG_FILE: join(tmp.dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(tmp.dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(tmp.dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(tmp.dir, "log"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(tmp.dir, "plugins-expand"),
    RABBITMQ_PID_FILE: join(tmp.dir, "rabbit.pid"),
    ERL_EPMD_ADDRESS: "127.0.0.1",
  };
  const child: ChildProcess = spawn(`${BIN}/rabbitmq-server`, [], { env, stdio: "ignore", detached: true });
  const ctl = async (...args: string[]) =>
    (await run(`${BIN}/rabbitmqctl`, ["-n", node, ...args], { env, timeout: 60_000 })).stdout;
  const stop = async () => {
    await ctl("stop").catch(() => {});
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
    tmp.remove();
  };
  try {
    // The Erlang node answers a few seconds after the start: until then rabbitmqctl fails at once.
    for (let tries = 1; ; tries++) {
      try {
        await ctl("await_startup", "--timeout", "30");
        break;
      } catch (error) {
        if (tries >= 60 || child.exitCode !== null) throw error;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
    await ctl("add_user", "admin", "admin");
    await ctl("set_user_tags", "admin", "administrator");
    await ctl("set_permissions", "-p", "/", "admin", ".*", ".*", ".*");
    const urlFor = (user: string, password: string) =>
      `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    // The management API answers a little after the node.
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${managementPort}/api/overview`, {
        headers: { authorization: `Basic ${Buffer.from("admin:admin").toString("base64")}` },
      })
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (i > 100) throw new Error("the management API did not answer");
      await new Promise((r) => setTimeout(r, 200));
    }
    const probe = await amqplib.connect(urlFor("admin", "admin"));
    await probe.close();
    return {
      tlsUrlFor: (user, password) =>
        `amqps://${encodeURIComponent(user)}:${encodeURIComponent(password)}@localhost:${tlsPort}`,
      adminUrl: urlFor("admin", "admin"),
      managementUrl: `http://admin:admin@127.0.0.1:${managementPort}`,
      port,
      urlFor,
      ctl,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
