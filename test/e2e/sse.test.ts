import { afterEach, describe, expect, it } from "vitest";
import { TaskClient } from "../../src/client/url-task-client.js";
import { readServerSentEvents } from "../../src/client/sse-reader.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { type ServiceHarness, startTestService, submitMessage } from "../helpers/service.js";

let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

/** Reads `count` task_status events from a fresh SSE connection, then drops it. */
async function readSome(url: string, token: string, lastEventId: number | undefined, count: number) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: "text/event-stream",
      ...(lastEventId !== undefined && { "last-event-id": String(lastEventId) }),
    },
    signal: controller.signal,
  });
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const got: TaskStatus[] = [];
  for await (const event of readServerSentEvents(response.body!)) {
    expect(event.id).toBeDefined();
    const status = JSON.parse(event.data) as TaskStatus;
    expect(Number(event.id)).toBe(status.header.sequence);
    got.push(status);
    if (got.length === count) break;
  }
  controller.abort();
  return got;
}

describe("status stream (SSE)", () => {
  it("lets a client that drops and resumes with Last-Event-ID receive every status exactly once, in order", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const id = (
      (await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("sleep", { ms: 600 }) }))
        .body as TaskStatus
    ).header.task_id!;
    const url = `${h.url}/v1/tasks/${id}/events`;
    const seen: TaskStatus[] = [];
    seen.push(...(await readSome(url, alice, undefined, 3)));
    // The task keeps running while we are away.
    await new Promise((r) => setTimeout(r, 250));
    for (let round = 0; round < 20 && seen.at(-1)?.body.status !== "completed"; round++) {
      seen.push(...(await readSome(url, alice, seen.at(-1)!.header.sequence, 2)));
    }
    const sequences = seen.map((s) => s.header.sequence);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    expect(seen.at(-1)!.body.status).toBe("completed");
    expect(seen.filter((s) => s.body.details?.event === "progress_update").length).toBeGreaterThanOrEqual(5);
  });

  it("sends keep-alive comments while a task is quiet, and ends the stream after the terminal status", async () => {
    h = await startTestService({ http: { port: 0, sse_keepalive_ms: 100 } });
    const alice = await h.token("alice", ["submitter"]);
    const slow = (
      await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("sleep", { ms: 400 }) })
    ).body as TaskStatus;
    const response = await fetch(`${h.url}/v1/tasks/${slow.header.task_id}/events`, {
      headers: { authorization: `Bearer ${alice}`, accept: "text/event-stream" },
    });
    const text = await response.text(); // resolves only because the server ends the stream
    expect(text).toContain(": keep-alive");
    expect(text).toContain('"status":"completed"');
  });

  it("TaskClient.watch follows a task over HTTP to its end", async () => {
    h = await startTestService();
    const client = new TaskClient({ url: h.url, token: await h.token("alice", ["submitter"]) });
    const task = await client.submit({ type: "sleep", parameters: { ms: 100 }, priority: 7 });
    const statuses: TaskStatus[] = [];
    for await (const status of client.watch(task.id)) statuses.push(status);
    expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
    expect(statuses.at(-1)!.body.status).toBe("completed");
    expect(await client.get(task.id)).toMatchObject({ id: task.id, state: "completed", priority: 7 });
    const page = await client.list({ limit: 10 });
    expect(page.tasks.map((t) => t.id)).toEqual([task.id]);
    const many = await client.submitMany([{ type: "noop" }, { type: "nope" }]);
    expect(many.map((r) => r.ok)).toEqual([true, false]);
    await expect(client.submit({ type: "sleep", parameters: { ms: "x" } })).rejects.toMatchObject({
      name: "TaskRejectedError",
    });
    const long = await client.submit({ type: "sleep", parameters: { ms: 10_000 } });
    expect((await client.cancel(long.id, "enough")).body.status).toBe("cancelled");
  });
});
