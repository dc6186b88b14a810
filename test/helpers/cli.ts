import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

// The built binary (package.json "bin"); `npm test` builds before it runs the tests.
const ENTRY = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `taskexec` command line in a real child process. */
export function cliEntry(): string {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does)`);
  return ENTRY;
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliEntry(), ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, TASKEXEC_URL: "", TASKEXEC_TOKEN: "", ...options.env },
        timeout: options.timeoutMs ?? 20_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
