// What a newcomer scripting the CLI tripped over (issue: a user's first hour, items 2–7), with the
// built binary against a real server.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliEntry, runCli } from "../helpers/cli.js";
import { type ServiceHarness, startTestService } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

let h: ServiceHarness;
let connection: string[];
beforeAll(async () => {
  h = await startTestService();
  connection = ["--url", h.url, "--token", await h.token("alice", ["submitter"])];
});
afterAll(async () => {
  await h.cleanup();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("the CLI for scripts and newcomers (real processes)", () => {
  it("keeps data on stdout and the rest on stderr: the id in one place, --quiet and --json", async () => {
    const plain = await runCli(["submit", "noop", ...connection]);
    const waited = await runCli(["submit", "noop", "--wait", ...connection]);
    for (const run of [plain, waited]) {
      expect(run.stdout).toMatch(/^accepted: [0-9a-f-]{36}\n/);
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
    }
    const quiet = await runCli(["submit", "noop", "--quiet", ...connection]);
    expect(quiet.stdout.trim()).toMatch(UUID);
    const quietWait = await runCli([
      "submit",
      "sleep",
      "-q",
      "--params",
      '{"ms":20}',
      "--wait",
      ...connection,
    ]);
    expect(quietWait.stdout.trim()).toMatch(UUID);
    expect(quietWait.code).toBe(0);

    const json = await runCli([
      "submit",
      "sleep",
      "--json",
      "--params",
      '{"ms":20}',
      "--wait",
      ...connection,
    ]);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { header: { sequence: number }; body: { status: string } });
    expect(lines[0]!.body.status).toBe("resource_allocation");
    expect(lines.at(-1)!.body.status).toBe("completed");
    expect(lines.map((l) => l.header.sequence)).toEqual(lines.map((_, i) => i + 1));

    const rejected = await runCli(["submit", "sleep", "--json", "--params", '{"ms":"soon"}', ...connection]);
    expect(rejected.stdout).toBe("");
    expect(JSON.parse(rejected.stderr)).toMatchObject({ rejected: true, code: "validation_failed" });
    expect(rejected.code).toBe(1);
  });

  it("shows each attempt and the error that caused a retry while waiting", async () => {
    const run = await runCli([
      "submit",
      "sleep",
      "--params",
      '{"ms":1,"fail_attempts":1}',
      "--max-attempts",
      "3",
      "--wait",
      ...connection,
    ]);
    expect(run.stdout).toMatch(/execution_started.*attempt 1\/3/);
    expect(run.stdout).toMatch(/retry_scheduled.*attempt 1\/3.*handler_error: sleep: failing attempt 1/);
    expect(run.stdout).toMatch(/execution_started.*attempt 2\/3/);
    expect(run.code).toBe(0);
  });

  it("takes a unique id prefix or suffix of 8 or more characters, or the short form, and lists the candidates of an ambiguous one", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++)
      ids.push((await runCli(["submit", "noop", "-q", ...connection])).stdout.trim());
    const [a, b] = ids as [string, string];
    const status = await runCli(["status", a.slice(0, 20), "--json", ...connection]);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: a });
    const short = await runCli(["status", `${a.slice(0, 8)}…${a.slice(-4)}`, "--json", ...connection]);
    expect(JSON.parse(short.stdout)).toMatchObject({ id: a });

    // UUIDv7: two ids made within the same minute share their first 8 characters (the time).
    let common = 0;
    while (a[common] === b[common]) common++;
    expect(common).toBeGreaterThanOrEqual(8);
    // Their ends are random: the last 8 or more characters name one (issue 25, smaller ones).
    const byEnd = await runCli(["status", a.slice(-8), "--json", ...connection]);
    expect(JSON.parse(byEnd.stdout)).toMatchObject({ id: a });
    const shortForm = await runCli(["status", `${a.slice(0, 8)}…${a.slice(-8)}`, "--json", ...connection]);
    expect(JSON.parse(shortForm.stdout)).toMatchObject({ id: a });
    const apiByEnd = await h.call("GET", `/v1/tasks/${b.slice(-12)}`, {
      token: await h.token("alice", ["submitter"]),
    });
    expect(apiByEnd.status).toBe(200);
    expect(apiByEnd.body).toMatchObject({ id: b });
    const ambiguous = await runCli(["status", a.slice(0, common), ...connection]);
    expect(ambiguous.stderr).toContain(a);
    expect(ambiguous.stderr).toContain(b);
    expect(ambiguous.code).toBe(1);
    const api = await h.call("GET", `/v1/tasks/${a.slice(0, common)}`, {
      token: await h.token("alice", ["submitter"]),
    });
    expect(api.status).toBe(409);
    expect(api.body).toMatchObject({ error: { details: { candidates: expect.arrayContaining([a, b]) } } });

    // Another tenant's tasks are neither found nor counted as candidates.
    const bob = ["--url", h.url, "--token", await h.token("bob", ["submitter"])];
    expect((await runCli(["status", a.slice(0, 20), ...bob])).stderr).toContain("not_found");
    expect((await runCli(["status", a.slice(0, 4), ...connection])).stderr).toContain("not_found");
  });

  it("says a finished task was not cancelled, and exits 1", async () => {
    const id = (await runCli(["submit", "noop", "-q", "--wait", ...connection])).stdout.trim();
    const cancel = await runCli(["cancel", id.slice(0, 23), ...connection]);
    expect(cancel.stderr).toContain("not cancelled: already completed");
    expect(cancel.code).toBe(1);
    const running = (
      await runCli(["submit", "sleep", "-q", "--params", '{"ms":60000}', ...connection])
    ).stdout.trim();
    const ok = await runCli(["cancel", running, ...connection]);
    expect(ok.stdout).toMatch(/cancelled\s+task_cancelled/);
    expect(ok.code).toBe(0);
  });

  it("on Ctrl-C during --wait says the task goes on and how to follow it", async () => {
    const child = spawn(
      process.execPath,
      [cliEntry(), "submit", "sleep", "--params", '{"ms":60000}', "--wait", ...connection],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TASKEXEC_URL: "", TASKEXEC_TOKEN: "" } },
    );
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("execution_started")) resolve();
      }),
    );
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const id = /accepted: (\S+)/.exec(stdout)![1]!;
    expect(stderr).toContain(`task ${id} goes on`);
    expect(stderr).toContain(`taskexec watch ${id}`);
    expect(code).toBe(130);
    expect((await runCli(["status", id, "--json", ...connection])).stdout).toContain('"state": "executing"');
    await runCli(["cancel", id, ...connection]);
  });

  it("lists the server's task types with their parameters and an example", async () => {
    const text = await runCli(["types", ...connection]);
    expect(text.stdout).toMatch(/^sleep — /m);
    expect(text.stdout).toMatch(/^\s+ms\s+number 0–86400000, required/m);
    expect(text.stdout).toContain(`example: taskexec submit sleep --params '{"ms":3000}'`);
    const json = JSON.parse((await runCli(["types", "sleep", "--json", ...connection])).stdout) as {
      types: { type: string; parameters_schema: { required: string[] }; example: unknown }[];
    };
    expect(json.types).toHaveLength(1);
    expect(json.types[0]).toMatchObject({
      type: "sleep",
      parameters_schema: { required: ["ms"] },
      example: { ms: 3000 },
    });
    const unknown = await runCli(["types", "resize", ...connection]);
    expect(unknown.stderr).toContain('no task type "resize"');
    expect(unknown.code).toBe(1);
    const mistyped = await runCli(["submit", "slep", ...connection]);
    expect(mistyped.stderr).toContain("taskexec types");
  });

  it("exits 2 for a usage mistake and 0 for help that was asked for; says where it looked for a token", async () => {
    expect((await runCli([])).code).toBe(2);
    expect((await runCli([])).stderr).toContain("Usage: taskexec");
    for (const help of [["--help"], ["help"], ["help", "submit"], ["submit", "--help"], ["--version"]])
      expect([help.join(" "), (await runCli(help)).code]).toEqual([help.join(" "), 0]);
    const url = await runCli(["list", "--url", "localhost:8080"]);
    expect(url.stderr).toContain("did you mean http://localhost:8080");
    expect(url.code).toBe(2);

    const empty = tempDir();
    try {
      const noToken = await runCli(["list", "--url", h.url], { cwd: empty.dir });
      expect(noToken.stderr).toContain("unauthenticated");
      expect(noToken.stderr).toContain("TASKEXEC_TOKEN");
      expect(noToken.stderr).toContain("data/cli-token");
      expect(noToken.stderr).toContain("--token");
      expect(noToken.code).toBe(1);
    } finally {
      empty.remove();
    }
  });
});
