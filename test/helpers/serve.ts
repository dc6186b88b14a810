import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { cliEntry } from "./cli.js";
import { TEST_SECRET } from "./service.js";

/** A port free on loopback now (for a child process to listen on). */
export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * The environment of a `serve` on its own data folder and port, signing with {@link TEST_SECRET},
 * logging warnings only; `extra` adds or overrides variables.
 */
export function serveEnv(
  dataDir: string,
  port: number,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    TASKEXEC_DATA_DIR: dataDir,
    TASKEXEC_STORE__URL: `sqlite:${join(dataDir, "t.db")}`,
    TASKEXEC_HTTP__PORT: String(port),
    TASKEXEC_AUTH__JWT_SECRET: TEST_SECRET,
    TASKEXEC_LOGGING__LEVEL: "warn",
    ...extra,
  };
}

export interface ServeProcess {
  child: ChildProcess;
  /** Resolves once the server says where it serves; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** What it printed so far, stdout and stderr apart. */
  output(): { stdout: string; stderr: string };
}

const children: ChildProcess[] = [];

/** Kills every `serve` this file started that is still alive (call in afterEach). */
export function killServes(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
}

/**
 * The real `taskexec serve` binary in a child process, configured by environment variables (or
 * `taskexec api` or `taskexec worker`, with `command`).
 */
export function serve(
  env: Record<string, string>,
  args: string[] = [],
  command: "serve" | "api" | "worker" = "serve",
): ServeProcess {
  const child = spawn(process.execPath, [cliEntry(), command, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes("is serving at") || stdout.includes("is taking work")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`${command} exited ${code}: ${stdout}${stderr}`)));
  });
  ready.catch(() => {}); // a test that expects the exit awaits `exited` instead
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, ready, exited, output: () => ({ stdout, stderr }) };
}
