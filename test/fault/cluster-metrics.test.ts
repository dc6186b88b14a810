// Issue 28.2: the metrics of two `serve` processes on one PostgreSQL database add up. Prometheus
// sums a series over every process it scrapes: per-process counters must count each task once
// (where it happened), and the cluster-wide gauges must come from one process only, the holder
// of the cluster_metrics duty, which another takes over when it is SIGKILLed.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminHeaders, type Member, startMember, submitMessage, waitFor } from "../helpers/cluster.js";
import { createTestDatabase, postgresForTests, type TestDatabase } from "../helpers/postgres.js";
import { killServes } from "../helpers/serve.js";
import { tempDir } from "../helpers/temp.js";

const available = await postgresForTests();

/** The sum of the samples of `name` whose labels include `labels`, in Prometheus's text format. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let seen = false;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => match[3]?.includes(`${k}="${v}"`) === true);
    if (!has) continue;
    seen = true;
    total += Number(match[4]);
  }
  return seen ? total : Number.NaN;
}

const scrape = async (member: Member) => (await fetch(`${member.url}/metrics`)).text();
const both = async (members: Member[]) => Promise.all(members.map(scrape));
const summed = (texts: string[], name: string, labels?: Record<string, string>) =>
  texts.map((t) => sum(t, name, labels)).reduce((a, b) => (Number.isNaN(b) ? a : a + b), 0);

describe.runIf(available)("metrics of two serve processes on one database", () => {
  let db: TestDatabase;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    db = await createTestDatabase();
    tmp = tempDir();
  });
  afterEach(async () => {
    killServes();
    await db.drop();
    tmp.remove();
  });

  it("add up after a known workload, and the cluster-wide gauges move to the survivor of a SIGKILL", async () => {
    const fast = { TASKEXEC_HEARTBEAT_MS: "200" };
    const a = await startMember(tmp.dir, "a", db.url, fast);
    const b = await startMember(tmp.dir, "b", db.url, fast);
    const members = [a, b];
    const headers = await adminHeaders();
    // 30 tasks through a, 20 through b; each process runs some of them.
    for (const [member, n] of [
      [a, 30],
      [b, 20],
    ] as const) {
      const messages = Array.from({ length: n }, (_, i) => submitMessage("noop", {}, `${member.port}-${i}`));
      const response = await fetch(`${member.url}/v1/tasks/batch`, {
        method: "POST",
        headers,
        body: JSON.stringify({ messages }),
      });
      expect(response.status).toBe(207);
    }
    await waitFor("50 completed", async () => {
      const texts = await both(members);
      return summed(texts, "taskexec_tasks", { state: "completed" }) === 50;
    });
    const texts = await both(members);
    // One exporter of the cluster-wide gauges, which count every task once.
    expect(texts.map((t) => sum(t, "taskexec_cluster_metrics_exporter")).sort()).toEqual([0, 1]);
    expect(summed(texts, "taskexec_tasks")).toBe(50);
    expect(summed(texts, "taskexec_queue_depth")).toBe(0);
    expect(summed(texts, "taskexec_tasks", { state: "executing" })).toBe(0);
    // Per-process counters: each task counted once, by the process that did the thing.
    expect(summed(texts, "taskexec_tasks_submitted_total")).toBe(50);
    expect(texts.map((t) => sum(t, "taskexec_tasks_submitted_total"))).toEqual([30, 20]);
    expect(summed(texts, "taskexec_tasks_finished_total", { type: "noop", outcome: "completed" })).toBe(50);
    expect(summed(texts, "taskexec_task_execution_seconds_count")).toBe(50);
    expect(summed(texts, "taskexec_task_execution_seconds_bucket", { le: "+Inf" })).toBe(50);
    expect(summed(texts, "taskexec_task_wait_seconds_count")).toBe(50);
    // Each process's own node, back to nothing allocated.
    expect(summed(texts, "taskexec_resource_usage_ratio")).toBe(0);
    expect(texts.every((t) => sum(t, "taskexec_resource_usage_ratio", { resource: "cpu" }) === 0)).toBe(true);
    // The runtime's, and the build's.
    for (const text of texts) {
      expect(sum(text, "taskexec_build_info", { version: "0.1.0" })).toBe(1);
      expect(sum(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(Number.isNaN(sum(text, "nodejs_eventloop_lag_seconds"))).toBe(false);
      expect(Number.isNaN(sum(text, "nodejs_gc_duration_seconds_count"))).toBe(false);
    }

    // The exporter dies: the other takes the duty (within a few heartbeats) and the sum holds.
    const exporter = sum(texts[0]!, "taskexec_cluster_metrics_exporter") === 1 ? a : b;
    const survivor = exporter === a ? b : a;
    exporter.process.child.kill("SIGKILL");
    await waitFor(
      "the survivor to export",
      async () => sum(await scrape(survivor), "taskexec_cluster_metrics_exporter") === 1,
      10_000,
    );
    expect(sum(await scrape(survivor), "taskexec_tasks", { state: "completed" })).toBe(50);
  }, 60_000);
});
