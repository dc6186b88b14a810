import { afterEach, describe, expect, it } from "vitest";
import { readServerSentEvents } from "../../src/client/sse-reader.js";
import { until } from "../helpers/executor.js";
import { type ServiceHarness, startTestService, submitMessage } from "../helpers/service.js";

// The routes behind the dashboard, which any client may use: session, counts, stats, the live
// stream, text search, and the page itself.

let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function submit(token: string, type: string, parameters: Record<string, unknown> = {}) {
  const answer = await h!.call("POST", "/v1/tasks", { token, body: submitMessage(type, parameters) });
  expect(answer.status).toBe(202);
  return (answer.body as { header: { task_id: string } }).header.task_id;
}

describe("dashboard routes", () => {
  it("says who a token speaks for and what it may do", async () => {
    h = await startTestService();
    const session = async (roles: ("admin" | "submitter" | "executor")[]) =>
      (await h!.call("GET", "/v1/session", { token: await h!.token("p", roles) })).body;
    expect(await session(["admin"])).toMatchObject({
      principal: "p",
      roles: ["admin"],
      may: { submit: true, see_all_tasks: true, admin: true },
      task_types: expect.arrayContaining(["noop", "sleep"]),
      protocol_version: "1.0.0",
    });
    expect(await session(["submitter"])).toMatchObject({
      may: { submit: true, see_all_tasks: false, admin: false },
    });
    expect(await session(["executor"])).toMatchObject({
      may: { submit: false, see_all_tasks: true, admin: false },
    });
    expect((await h.call("GET", "/v1/session")).status).toBe(401);
  });

  it("counts and charts a submitter's own tasks, and everyone's for an admin", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const admin = await h.token("root", ["admin"]);
    await submit(alice, "noop");
    await submit(alice, "sleep", { ms: 1, fail_attempts: 9, permanent: true });
    await submit(bob, "noop");
    await until(async () => {
      const { counts } = (await h!.call("GET", "/v1/counts", { token: admin })).body as {
        counts: Record<string, number>;
      };
      return counts.completed === 2 && counts.failed === 1;
    });
    expect((await h.call("GET", "/v1/counts", { token: alice })).body).toEqual({
      counts: { completed: 1, failed: 1 },
    });
    expect((await h.call("GET", "/v1/counts", { token: bob })).body).toEqual({ counts: { completed: 1 } });

    type Point = { submitted_per_s: number; error_rate: number | null; t: number };
    type Stats = { step: number; points: Point[]; window: Point };
    const stats = async (token: string) =>
      (await h!.call("GET", "/v1/stats?step=900", { token })).body as Stats;
    const submitted = (s: Stats) => Math.round(s.points.reduce((n, p) => n + p.submitted_per_s, 0) * 900);
    const all = await stats(admin);
    expect(all.step).toBe(900);
    expect(all.points.length).toBeLessThanOrEqual(2);
    // Rates are per second over the seconds a step covers. Steps are aligned on the clock, so the
    // three may straddle two of them: the window (the whole 15 minutes) holds all three.
    expect(all.window.error_rate).toBeCloseTo(1 / 3);
    expect((await stats(alice)).window.error_rate).toBeCloseTo(1 / 2);
    expect((await stats(bob)).window.error_rate).toBe(0);
    expect(all.points.some((p) => p.error_rate !== null && p.error_rate > 0)).toBe(true);
    expect(submitted(all)).toBeGreaterThan(0);
    const fine = (await h.call("GET", "/v1/stats", { token: admin })).body as Stats;
    expect(fine.step).toBe(5);
    expect(fine.points.length).toBeGreaterThanOrEqual(180);
    expect((await h.call("GET", "/v1/stats?step=0", { token: admin })).status).toBe(400);
  });

  it("streams each changed task's row, coalesced, and only the caller's own", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const controller = new AbortController();
    const response = await fetch(`${h.url}/v1/stream`, {
      headers: { authorization: `Bearer ${alice}`, accept: "text/event-stream" },
      signal: controller.signal,
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const mine = await submit(alice, "sleep", { ms: 300 });
    await submit(bob, "noop");
    const rows = new Map<string, { state: string; progress: number | null; submitter: string }>();
    let batches = 0;
    try {
      for await (const event of readServerSentEvents(response.body!)) {
        expect(event.event).toBe("tasks");
        batches += 1;
        for (const row of (
          JSON.parse(event.data) as {
            tasks: { id: string; state: string; progress: number | null; submitter: string }[];
          }
        ).tasks) {
          rows.set(row.id, row);
        }
        if (rows.get(mine)?.state === "completed") break;
      }
    } finally {
      controller.abort();
    }
    expect([...rows.keys()]).toEqual([mine]);
    expect(rows.get(mine)).toMatchObject({ submitter: "alice", progress: 1 });
    // 300 ms of a handler reporting ten times, plus start and end: far fewer batches than statuses.
    const statuses = (
      (await h.call("GET", `/v1/tasks/${mine}/events`, { token: alice })).body as { events: unknown[] }
    ).events.length;
    expect(batches).toBeLessThan(statuses);
    expect((await h.call("GET", "/v1/stream")).status).toBe(401);
  });

  it("finds tasks by the start of their id or reference, or a part of their type", async () => {
    h = await startTestService();
    const admin = await h.token("root", ["admin"]);
    const sleeper = await submit(admin, "sleep", { ms: 1 });
    const nooper = await submit(admin, "noop");
    const list = async (query: string) =>
      (
        (await h!.call("GET", `/v1/tasks?${query}`, { token: admin })).body as { tasks: { id: string }[] }
      ).tasks.map((t) => t.id);
    expect(await list("q=lee")).toEqual([sleeper]);
    expect(await list(`q=${nooper.slice(0, 20)}`)).toEqual([nooper]);
    expect(await list("q=zzz")).toEqual([]);
    expect(await list("submitter=root")).toEqual([nooper, sleeper]);
    expect(await list("submitter=nobody")).toEqual([]);
    // A submitter naming another submitter still sees only its own.
    const alice = await h.token("alice", ["submitter"]);
    const own = (
      (await h.call("GET", "/v1/tasks?submitter=root", { token: alice })).body as { tasks: unknown[] }
    ).tasks;
    expect(own).toEqual([]);
  });

  it("serves the built dashboard at / with a strict content security policy, and JSON 404s elsewhere", async () => {
    h = await startTestService();
    const page = await fetch(`${h.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${h.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    // No CDN, no other origin: every URL the page loads is its own.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const missing = await h.call("GET", "/assets/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: { code: "not_found" } });
  });
});
