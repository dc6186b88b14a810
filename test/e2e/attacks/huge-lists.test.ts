import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";

// Hole 5 of the hardening issue: GET /v1/tasks?limit=1000 over 450 tasks with 1 MiB parameters
// returned 450 MB (the process went to 3.7 GB): lists carried every task's parameters and
// result, and were bounded in rows only.
let h: ServiceHarness;
let token: string;
const TASKS = 40;
beforeAll(async () => {
  h = await startTestService({ http: { port: 0, list_max_bytes: 8 * 1024 } });
  token = await h.token("mallory", ["submitter"]);
  const pad = "x".repeat(1000 * 1024);
  for (let i = 0; i < TASKS; i++) {
    const answer = await h.call("POST", "/v1/tasks", { token, body: submitMessage("sleep", { ms: 1, pad }) });
    expect(answer.status).toBe(202);
  }
}, 60_000);
afterAll(async () => {
  await h.cleanup();
});

describe("task lists", () => {
  it("are summaries without parameters or results, bounded in bytes, and page through every task once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await h.call("GET", `/v1/tasks?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, {
        token,
      });
      expect(answer.status).toBe(200);
      expect(answer.text.length).toBeLessThan(8 * 1024 + 2048);
      const page = answer.body as { tasks: Record<string, unknown>[]; next_cursor: string | null };
      for (const task of page.tasks) {
        expect(task).not.toHaveProperty("parameters");
        expect(task).not.toHaveProperty("result");
        seen.push(task.id as string);
      }
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 100);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(TASKS);
    expect(seen).toHaveLength(TASKS);
    // The task itself still has them.
    const one = (await h.call("GET", `/v1/tasks/${seen[0]}`, { token })).body as {
      parameters: { pad: string };
    };
    expect(one.parameters.pad).toHaveLength(1000 * 1024);
  });
});
