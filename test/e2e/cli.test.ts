import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
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

describe("taskexec CLI (real processes)", () => {
  it("submit --wait exits 0 when the task completed", async () => {
    const run = await runCli(["submit", "sleep", "--params", '{"ms":50}', "--wait", ...connection]);
    expect(run.stdout).toMatch(/^accepted: [0-9a-f-]{36}\n/);
    expect(run.stdout).toMatch(/completed\s+task_completed/);
    expect(run.code).toBe(0);
  });

  it("submit --wait exits 1 when the task failed, and when it was rejected", async () => {
    const failed = await runCli([
      "submit",
      "sleep",
      "--params",
      '{"ms":1,"fail_attempts":5,"permanent":true}',
      "--wait",
      ...connection,
    ]);
    expect(failed.stdout).toMatch(/failed\s+task_failed/);
    expect(failed.code).toBe(1);
    const rejected = await runCli([
      "submit",
      "sleep",
      "--params",
      '{"ms":"soon"}',
      "--priority",
      "11",
      ...connection,
    ]);
    expect(rejected.stderr).toContain("body.priority");
    expect(rejected.stderr).toContain("body.task_specification.parameters.ms");
    expect(rejected.code).toBe(1);
  });

  it("exits 2 on usage mistakes, with a message and no stack trace", async () => {
    for (const args of [
      ["submit"],
      ["submit", "noop", "--params", "{oops"],
      ["submit", "noop", "--priority", "high"],
      ["frobnicate"],
      ["list", "--state", "sleeping"],
    ]) {
      const run = await runCli([...args, ...connection]);
      expect([args.join(" "), run.code]).toEqual([args.join(" "), 2]);
      expect(run.stderr).toMatch(/error/);
      expect(run.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    }
  });

  it("prints JSON that parses with --json, for submit, status, list, watch and cancel", async () => {
    const submitted = JSON.parse(
      (await runCli(["submit", "sleep", "--params", '{"ms":5000}', "--json", ...connection])).stdout,
    ) as {
      header: { task_id: string };
    };
    const id = submitted.header.task_id;
    expect(JSON.parse((await runCli(["status", id, "--json", ...connection])).stdout)).toMatchObject({
      id,
      type: "sleep",
    });
    const list = JSON.parse((await runCli(["list", "--json", "--limit", "5", ...connection])).stdout) as {
      tasks: { id: string }[];
    };
    expect(list.tasks.map((t) => t.id)).toContain(id);
    expect(JSON.parse((await runCli(["cancel", id, "--json", ...connection])).stdout)).toMatchObject({
      body: { status: "cancelled" },
    });
    const watched = await runCli(["watch", id, "--json", ...connection]);
    const lines = watched.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { body: { status: string } });
    expect(lines.at(-1)!.body.status).toBe("cancelled");
    expect(watched.code).toBe(1);
  });

  it("shows human output: a status card and a task table", async () => {
    const status = await runCli(["list", ...connection]);
    expect(status.stdout).toMatch(/^ID\s+TYPE\s+STATE/);
    expect(status.code).toBe(0);
  });

  it("refuses another tenant's task and an unreachable server with a clear message", async () => {
    const bob = ["--url", h.url, "--token", await h.token("bob", ["submitter"])];
    const id = JSON.parse((await runCli(["submit", "noop", "--json", ...connection])).stdout).header
      .task_id as string;
    const other = await runCli(["status", id, ...bob]);
    expect(other.stderr).toContain("not_found");
    expect(other.code).toBe(1);
    const down = await runCli(["status", id, "--url", "http://127.0.0.1:1", "--token", "x"]);
    expect(down.stderr).toContain("cannot reach taskexec");
    expect(down.code).toBe(1);
  });

  it("mints tokens the server accepts, and config check names the broken key", async () => {
    const tmp = tempDir();
    try {
      const config = join(tmp.dir, "config.yaml");
      writeFileSync(
        config,
        `data_dir: ${h.dataDir}\nauth:\n  jwt_secret: ${"test-secret-test-secret-test-secret-0123"}\n`,
      );
      const minted = await runCli([
        "token",
        "--sub",
        "carol",
        "--role",
        "submitter",
        "--ttl",
        "10m",
        "--config",
        config,
      ]);
      expect(minted.code).toBe(0);
      const token = minted.stdout.trim();
      expect((await h.call("GET", "/v1/tasks", { token })).status).toBe(200);
      expect((await runCli(["token", "--sub", "x", "--role", "wizard", "--config", config])).code).toBe(2);

      expect((await runCli(["config", "check", "--config", config])).code).toBe(0);
      writeFileSync(config, "http:\n  port: eighty\nretry:\n  max_attempts: 0\n");
      const broken = await runCli(["config", "check", "--config", config]);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toContain("http.port");
      expect(broken.stderr).toContain("retry.max_attempts");
      const json = JSON.parse((await runCli(["config", "check", "--json", "--config", config])).stdout) as {
        ok: boolean;
        problems: { path: string }[];
      };
      expect(json.ok).toBe(false);
      expect(json.problems.map((p) => p.path)).toContain("http.port");
    } finally {
      tmp.remove();
    }
  });

  it("has --help on every command", async () => {
    for (const command of [
      [],
      ["serve"],
      ["submit"],
      ["status"],
      ["watch"],
      ["list"],
      ["cancel"],
      ["token"],
      ["config", "check"],
    ]) {
      const run = await runCli([...command, "--help"]);
      expect([command.join(" "), run.code]).toEqual([command.join(" "), 0]);
      expect(run.stdout).toContain("Usage: taskexec");
    }
  });
});
