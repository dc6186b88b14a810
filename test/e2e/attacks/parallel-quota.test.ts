import { afterEach, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";

// Hole 2 of the hardening issue: quotas were checked apart from the insert, so parallel requests
// all saw the same room (40 parallel submits with max_active_tasks 5 accepted 22; 20 parallel
// cpu: 1 submits against a cpu: 2 quota accepted 20).
let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const statuses = (answers: { status: number }[]) => {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
};

describe("quotas under parallel requests", () => {
  it("accepts exactly max_active_tasks of 40 parallel submits", async () => {
    h = await startTestService({ limits: { max_active_tasks: 5 } });
    const token = await h.token("mallory", ["submitter"]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        h!.call("POST", "/v1/tasks", { token, body: submitMessage("sleep", { ms: 10_000 }) }),
      ),
    );
    expect(statuses(answers)).toEqual({ 202: 5, 429: 35 });
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(refused.body).toMatchObject({ error: { code: "quota_exceeded" } });
      expect(refused.headers.get("retry-after")).toBe("5");
    }
  });

  it("accepts exactly the cpu quota's worth of 20 parallel cpu: 1 submits, and of parallel batches", async () => {
    h = await startTestService({ limits: { max_resources: { cpu: 2 } } });
    const token = await h.token("mallory", ["submitter"]);
    const one = () => submitMessage("sleep", { ms: 10_000 }, { requirements: { cpu: 1 } });
    const singles = await Promise.all(
      Array.from({ length: 20 }, () => h!.call("POST", "/v1/tasks", { token, body: one() })),
    );
    expect(statuses(singles)).toEqual({ 202: 2, 429: 18 });

    const other = await h.token("trudy", ["submitter"]);
    const batches = await Promise.all(
      Array.from({ length: 5 }, () =>
        h!.call("POST", "/v1/tasks/batch", { token: other, body: { messages: [one(), one(), one()] } }),
      ),
    );
    const results = batches.flatMap((b) => (b.body as { results: { status: number }[] }).results);
    expect(statuses(results)).toEqual({ 202: 2, 429: 13 });
  });

  it("still answers a resubmission of an existing task with 200 when the quota is full", async () => {
    h = await startTestService({ limits: { max_active_tasks: 1 } });
    const token = await h.token("alice", ["submitter"]);
    const message = submitMessage("sleep", { ms: 10_000 }, { messageId: "only" });
    expect((await h.call("POST", "/v1/tasks", { token, body: message })).status).toBe(202);
    const again = await Promise.all(
      Array.from({ length: 5 }, () => h!.call("POST", "/v1/tasks", { token, body: message })),
    );
    expect(statuses(again)).toEqual({ 200: 5 });
    const audit = (
      await h.call("GET", "/v1/audit?principal=alice&order=oldest", {
        token: await h.token("root", ["admin"]),
      })
    ).body as { entries: { decision: string }[] };
    expect(audit.entries.map((e) => e.decision)).toEqual(["accepted", ...Array(5).fill("duplicate")]);
  });
});
