import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type ServiceHarness, startTestService } from "../helpers/service.js";

// Issue 28.3: the alert rules in deploy/prometheus pass promtool's checks and their unit tests,
// and every metric a rule names is one a taskexec process exports.

const DIR = join(import.meta.dirname, "..", "..", "deploy", "prometheus");
const PROMTOOL = process.env.TASKEXEC_PROMTOOL ?? "/usr/bin/promtool";

function promtoolForTests(): boolean {
  if (existsSync(PROMTOOL)) return true;
  if (process.env.CI) throw new Error(`${PROMTOOL} is missing: CI must install the prometheus package`);
  console.warn(`skipping the alert rule tests: ${PROMTOOL} not found (apt-get install prometheus)`);
  return false;
}

const promtool = (args: string[], input?: string) =>
  spawnSync(PROMTOOL, args, { cwd: DIR, encoding: "utf8", input });

describe.runIf(promtoolForTests())("alert rules (deploy/prometheus/alerts.yml)", () => {
  let h: ServiceHarness | undefined;
  afterAll(async () => {
    await h?.cleanup();
  });

  it("pass promtool check rules and check config (compose's Prometheus), and their unit tests (promtool test rules)", () => {
    const checked = promtool(["check", "rules", "alerts.yml"]);
    expect(checked.stdout + checked.stderr).toContain("SUCCESS");
    expect(checked.status).toBe(0);
    // The compose file's Prometheus configuration loads them.
    const config = promtool(["check", "config", "prometheus.yml"]);
    expect(config.stdout + config.stderr).toContain("SUCCESS");
    expect(config.status).toBe(0);
    const tested = promtool(["test", "rules", "alerts.test.yml"]);
    expect(tested.stdout + tested.stderr).toContain("SUCCESS");
    expect(tested.status).toBe(0);
  });

  it("test every rule, and name only metrics that taskexec exports (and /metrics passes promtool check metrics)", async () => {
    const rules = (
      parse(readFileSync(join(DIR, "alerts.yml"), "utf8")) as {
        groups: { rules: { alert: string; expr: string }[] }[];
      }
    ).groups.flatMap((g) => g.rules);
    const tests = readFileSync(join(DIR, "alerts.test.yml"), "utf8");
    for (const { alert } of rules)
      expect(tests, `no unit test fires ${alert}`).toContain(`alertname: ${alert}\n        exp_alerts`);

    h = await startTestService();
    const exposition = await (await fetch(`${h.url}/metrics`)).text();
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const named = new Set(
      rules.flatMap(({ expr }) =>
        [...expr.matchAll(/\b(taskexec_\w+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, "")),
      ),
    );
    expect(named.size).toBeGreaterThan(8);
    expect([...named].filter((name) => !exported.has(name))).toEqual([]);
    const linted = promtool(["check", "metrics"], exposition);
    expect(linted.stdout + linted.stderr).toBe("");
    expect(linted.status).toBe(0);
  });
});

// The version printed, for the run's log.
if (existsSync(PROMTOOL))
  console.log(execFileSync(PROMTOOL, ["--version"], { encoding: "utf8" }).split("\n")[0]);
