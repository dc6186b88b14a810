import { spawn } from "node:child_process";
import { z } from "zod";
import { PermanentError } from "../../protocol/errors.js";
import { defineHandler } from "../handler.js";
import { createShellPolicy, type ShellPolicy, type ShellPolicyOptions } from "./shell-policy.js";

export interface ShellHandlerOptions extends ShellPolicyOptions {
  timeout_ms: number;
  max_output_bytes: number;
}

const NoNul = z.string().refine((s) => !s.includes("\0"), "must not contain a NUL character");

const ShellParameters = z.object({
  program: NoNul.min(1).describe("an entry of builtins.shell.allow_programs, or the file it names"),
  args: z
    .array(NoNul)
    .max(1000)
    .default([])
    .describe("arguments, passed as they are: there is never a shell to interpret them"),
  cwd: NoNul.min(1).optional().describe("working folder, inside builtins.shell.cwd_roots"),
  env: z.record(z.string(), NoNul).optional().describe("environment variables (not PATH, LD_*, NODE_*, …)"),
});

/**
 * `shell`: runs an allow-listed program with an argv array — never a shell string — under a
 * timeout, keeping at most `max_output_bytes` of stdout and of stderr. A non-zero exit fails the
 * attempt (retried).
 *
 * Each entry of `builtins.shell.allow_programs` is resolved to one file when the server starts;
 * a task names it by that entry or by that file's path, and exactly that file runs. The task's
 * environment may not steer what code runs (PATH, LD_*, NODE_OPTIONS…, see shell-policy.ts), and
 * its `cwd` must lie in `builtins.shell.cwd_roots`.
 */
export function createShellHandler(options: ShellHandlerOptions) {
  const policy = createShellPolicy(options);
  return defineHandler({
    type: "shell",
    description: `Runs an allowed program (${options.allow_programs.join(", ")}) with an argv array, never a shell string`,
    example:
      options.allow_programs[0] === undefined ? undefined : { program: options.allow_programs[0], args: [] },
    parameters: ShellParameters.superRefine((p, ctx) => checkAgainstPolicy(policy, p, ctx)),
    run({ parameters, signal }) {
      const file = policy.program(parameters.program);
      if (file === undefined) throw new PermanentError(`shell: ${parameters.program} is not allowed`);
      let cwd: string | undefined;
      if (parameters.cwd !== undefined) {
        // Again at run time: the folder may have become a link out of the roots since submission.
        const checked = policy.cwd(parameters.cwd);
        if (!checked.ok) throw new PermanentError(`shell: cwd ${parameters.cwd} ${checked.reason}`);
        cwd = checked.dir;
      }
      return new Promise((resolve, reject) => {
        const child = spawn(file, parameters.args, {
          cwd,
          // The server's PATH and what the task names: the executor's own secrets never reach the child.
          env: { ...parameters.env, PATH: process.env.PATH ?? "/usr/bin:/bin" },
          shell: false,
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeout_ms)]),
          stdio: ["ignore", "pipe", "pipe"],
        });
        const stdout = new BoundedBuffer(options.max_output_bytes);
        const stderr = new BoundedBuffer(options.max_output_bytes);
        child.stdout.on("data", (chunk: Buffer) => stdout.add(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.add(chunk));
        child.on("error", (error: NodeJS.ErrnoException) => {
          reject(error.code === "ENOENT" ? new PermanentError(`shell: no program ${file}`) : error);
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

function checkAgainstPolicy(
  policy: ShellPolicy,
  p: z.output<typeof ShellParameters>,
  ctx: z.RefinementCtx,
): void {
  if (policy.program(p.program) === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["program"],
      message: "program is not in builtins.shell.allow_programs (give its name or its resolved path)",
    });
  }
  for (const name of Object.keys(p.env ?? {})) {
    const reason = policy.refuseEnv(name);
    if (reason !== undefined)
      ctx.addIssue({ code: "custom", path: ["env", name], message: `${name} ${reason}` });
  }
  if (p.cwd !== undefined) {
    const checked = policy.cwd(p.cwd);
    if (!checked.ok) ctx.addIssue({ code: "custom", path: ["cwd"], message: `cwd ${checked.reason}` });
  }
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
