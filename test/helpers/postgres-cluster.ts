// A PostgreSQL cluster of the test's own (its port and data folder), serving TLS only: for the
// tests of `sslmode=verify-full`, which must not touch the machine's shared cluster.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { TestCertificates } from "./certificates.js";
import { freePort } from "./serve.js";
import { tempDir } from "./temp.js";

export interface PostgresCluster {
  port: number;
  /** `postgres://postgres@localhost:<port>/<database>?sslmode=verify-full&sslrootcert=<ca>`. */
  url(database: string, ca: string): string;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's programs (Debian's layout), or undefined. */
export function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const newest = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))[0];
  return newest === undefined ? undefined : join(root, newest, "bin");
}

/**
 * Starts a cluster that accepts TCP connections over TLS only (hostssl, trust), with the
 * server certificate of `tls`, and a database `taskexec`. Runs as the `postgres` user, which
 * owns its folder; stop() ends it and removes the folder.
 */
export async function startPostgresCluster(tls: TestCertificates): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error("no PostgreSQL programs under /usr/lib/postgresql");
  const port = await freePort();
  const tmp = tempDir("taskexec-pg-");
  chmodSync(tmp.dir, 0o755);
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  chownSync(tmp.dir, uid, gid);
  const data = join(tmp.dir, "data");
  const asPostgres = (program: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", join(bin, program), ...args], { stdio: "ignore" });
  asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  for (const [from, to] of [
    [tls.server.cert, "server.crt"],
    [tls.server.key, "server.key"],
    [tls.ca, "ca.crt"],
  ] as const) {
    copyFileSync(from, join(data, to));
    chownSync(join(data, to), uid, gid);
    chmodSync(join(data, to), 0o600);
  }
  writeFileSync(join(data, "pg_hba.conf"), "local all all trust\nhostssl all all 127.0.0.1/32 trust\n");
  const child: ChildProcess = spawn(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      join(bin, "postgres"),
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${tmp.dir}`,
      "-c",
      "ssl=on",
      "-c",
      "ssl_cert_file=server.crt",
      "-c",
      "ssl_key_file=server.key",
      "-c",
      "ssl_min_protocol_version=TLSv1.3",
      "-c",
      "fsync=off",
    ],
    { stdio: "ignore", detached: true },
  );
  const url = (database: string, ca: string) =>
    `postgres://postgres@localhost:${port}/${database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;
  const stop = async () => {
    try {
      process.kill(-child.pid!, "SIGINT");
    } catch {
      // gone already
    }
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(undefined)));
    tmp.remove();
  };
  try {
    for (let tries = 1; ; tries++) {
      const client = new pg.Client({ connectionString: url("postgres", tls.ca) });
      try {
        await client.connect();
        await client.query("CREATE DATABASE taskexec");
        await client.end();
        break;
      } catch (error) {
        await client.end().catch(() => {});
        if (tries >= 100 || child.exitCode !== null) throw error;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return { port, url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
