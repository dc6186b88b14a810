import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";
import { tempDir } from "../../helpers/temp.js";

// Hole 1 of the hardening issue: with `echo` allowed, a folder the attacker can write made the
// server run the attacker's own `echo` (by path, by ./ and cwd, by the task's PATH) or load
// attacker code into an allowed program (LD_PRELOAD).
let h: ServiceHarness;
let token: string;
const attacker = tempDir("taskexec-attacker-");
const work = tempDir("taskexec-work-");
const marker = join(attacker.dir, "pwned");

beforeAll(async () => {
  const fake = join(attacker.dir, "echo");
  writeFileSync(fake, `#!/bin/sh\ntouch ${marker}\n`);
  chmodSync(fake, 0o755);
  mkdirSync(join(work.dir, "job"));
  h = await startTestService({
    builtins: {
      shell: { enabled: true, allow_programs: ["echo", "printenv"], cwd_roots: [work.dir], timeout_ms: 5000 },
    },
  });
  token = await h.token("mallory", ["submitter"]);
});
afterAll(async () => {
  await h.cleanup();
  attacker.remove();
  work.remove();
});

const shell = (parameters: Record<string, unknown>) => submitMessage("shell", parameters);

async function finalStatus(id: string): Promise<{ status: string; details?: { result?: unknown } }> {
  for (let i = 0; i < 200; i++) {
    const events = (await h.call("GET", `/v1/tasks/${id}/events`, { token })).body as {
      events: { body: { status: string; details?: { result?: unknown } } }[];
    };
    const last = events.events[events.events.length - 1]!.body;
    if (["completed", "failed", "rejected", "cancelled"].includes(last.status)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`task ${id} did not finish`);
}

describe("shell allow-list against an attacker's folder", () => {
  it.each([
    ["a path to another file of the same name", { program: `${attacker.dir}/echo` }, "program"],
    ["./echo with the attacker's cwd", { program: "./echo", cwd: attacker.dir }, "program"],
    ["the task's own PATH", { program: "echo", env: { PATH: attacker.dir } }, "env.PATH"],
    [
      "LD_PRELOAD into an allowed program",
      { program: "/usr/bin/printenv", env: { LD_PRELOAD: `${attacker.dir}/pre.so` } },
      "env.LD_PRELOAD",
    ],
    [
      "NODE_OPTIONS",
      { program: "echo", env: { NODE_OPTIONS: `--require ${attacker.dir}/x.js` } },
      "env.NODE_OPTIONS",
    ],
    ["a cwd outside the roots", { program: "echo", cwd: attacker.dir }, "cwd"],
    ["a cwd that climbs out of a root", { program: "echo", cwd: `${work.dir}/job/../..` }, "cwd"],
  ])("refuses %s with 422 naming the field, and runs nothing", async (_name, parameters, field) => {
    const answer = await h.call("POST", "/v1/tasks", { token, body: shell(parameters) });
    expect(answer.status).toBe(422);
    const errors = (answer.body as { error: { details: { errors: { path: string }[] } } }).error.details
      .errors;
    expect(errors.map((e) => e.path)).toContain(`body.task_specification.parameters.${field}`);
    expect(existsSync(marker)).toBe(false);
  });

  it("runs the allowed program by name, and in a folder under a root", async () => {
    const byName = await h.call("POST", "/v1/tasks", {
      token,
      body: shell({ program: "echo", args: ["hi"] }),
    });
    expect(byName.status).toBe(202);
    expect(await finalStatus((byName.body as { header: { task_id: string } }).header.task_id)).toMatchObject({
      status: "completed",
      details: { result: { stdout: "hi\n" } },
    });
    const inFolder = await h.call("POST", "/v1/tasks", {
      token,
      body: shell({ program: "printenv", args: ["MINE"], cwd: "job", env: { MINE: "ok" } }),
    });
    expect(inFolder.status).toBe(202);
    expect(
      await finalStatus((inFolder.body as { header: { task_id: string } }).header.task_id),
    ).toMatchObject({ status: "completed", details: { result: { stdout: "ok\n" } } });
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses to start when an allowed program is not on the server's PATH", async () => {
    await expect(
      startTestService({ builtins: { shell: { enabled: true, allow_programs: ["no-such-program-xyz"] } } }),
    ).rejects.toThrow(/builtins\.shell\.allow_programs\.0: no executable no-such-program-xyz/);
  });
});
