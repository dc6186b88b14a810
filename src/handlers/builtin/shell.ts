import { spawn } from "node:child_process";
import { basename } from "node:path";
import { z } from "zod";
import { PermanentError } from "../../protocol/errors.js";
import { defineHandler } from "../handler.js";

export interface ShellHandlerOptions {
  allow_programs: readonly string[];
  timeout_ms: number;
  max_output_bytes: number;
}

const ShellParameters = z.object({
  program: z.string().min(1),
  /** Arguments, passed as they are: there is never a shell to interpret them. */
  args: z.array(z.string()).max(1000).default([]),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
});

/**
 * `shell`: runs an allow-listed program (`builtins.shell.allow_programs`, by path or by name)
 * with an argv array — never a shell string — under a timeout, keeping at most
 * `max_output_bytes` of stdout and of stderr. A non-zero exit fails the attempt (retried).
 */
export function createShellHandler(options: ShellHandlerOptions) {
  const allowed = new Set(options.allow_programs);
  return defineHandler({
    type: "shell",
    parameters: ShellParameters.refine((p) => allowed.has(p.program) || allowed.has(basename(p.program)), {
      message: "program is not in builtins.shell.allow_programs",
      path: ["program"],
    }),
    run({ parameters, signal }) {
      return new Promise((resolve, reject) => {
        const child = spawn(parameters.program, parameters.args, {
          cwd: parameters.cwd,
          // Only PATH and what the task names: the executor's own secrets never reach the child.
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...parameters.env },
          shell: false,
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeout_ms)]),
          stdio: ["ignore", "pipe", "pipe"],
        });
        const stdout = new BoundedBuffer(options.max_output_bytes);
        const stderr = new BoundedBuffer(options.max_output_bytes);
        child.stdout.on("data", (chunk: Buffer) => stdout.add(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.add(chunk));
        child.on("error", (error: NodeJS.ErrnoException) => {
          reject(
            error.code === "ENOENT" ? new PermanentError(`shell: no program ${parameters.program}`) : error,
          );
        });
        child.on("close", (code, killedBy) => {
          const result = {
            exit_code: code,
            signal: killedBy,
            stdout: stdout.text(),
            stderr: stderr.text(),
            truncated: stdout.truncated || stderr.truncated,
          };
          if (code === 0) resolve(result);
          else
            reject(
              new Error(
                `shell: ${parameters.program} exited ${code ?? killedBy}: ${result.stderr.slice(-500)}`,
              ),
            );
        });
      });
    },
  });
}

class BoundedBuffer {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  truncated = false;
  constructor(readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.#size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const kept = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
    if (kept !== chunk) this.truncated = true;
    this.#chunks.push(kept);
    this.#size += kept.byteLength;
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8");
  }
}
