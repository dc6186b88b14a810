// `npx taskexec …` in the project folder runs the built command at once: no install-time script
// of ours (which npm would run, or warn about, for people who install the package), and a bin
// linked into node_modules/.bin by the build, so npx does not link and prepare the folder.
import { execFile } from "node:child_process";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliEntry } from "../helpers/cli.js";

const root = join(import.meta.dirname, "..", "..");

describe("npx taskexec", () => {
  it("has no install-time lifecycle script to run or warn about", () => {
    const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    const installTime = [
      "preinstall",
      "install",
      "postinstall",
      "prepublish",
      "preprepare",
      "prepare",
      "postprepare",
    ];
    expect(Object.keys(scripts).filter((name) => installTime.includes(name))).toEqual([]);
  });

  it("runs the built binary without building", async () => {
    expect(realpathSync(join(root, "node_modules", ".bin", "taskexec"))).toBe(realpathSync(cliEntry()));
    const before = statSync(cliEntry()).mtimeMs;
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        "npx",
        ["--offline", "taskexec", "--help"],
        { cwd: root, timeout: 30_000, env: { ...process.env, npm_config_update_notifier: "false" } },
        (error, stdout, stderr) => (error ? reject(error) : resolve({ stdout, stderr })),
      ),
    );
    expect(stdout).toContain("Usage: taskexec");
    expect(stdout + stderr).not.toMatch(/> taskexec@[\d.]+ (build|prepare)/);
    expect(statSync(cliEntry()).mtimeMs).toBe(before);
  });
});
