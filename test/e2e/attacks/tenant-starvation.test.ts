import { afterEach, describe, expect, it, vi } from "vitest";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";

// Hole 7 of the hardening issue: 150 tasks each asking gpu: 1 (capacity 1) filled the execution
// slots while they waited, and another submitter's priority-9 no-op waited 58 s with 4 CPUs free.
let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function stateOf(token: string, id: string): Promise<string> {
  return ((await h!.call("GET", `/v1/tasks/${id}`, { token })).body as { state: string }).state;
}

async function finishesWithin(token: string, id: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if ((await stateOf(token, id)) === "completed") return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe("one tenant against another", () => {
  it("lets tasks that can run start while another tenant's tasks wait for a busy GPU", async () => {
    h = await startTestService({ max_concurrent_tasks: 10, resources: { cpu: 4, memory_mb: 4096, gpu: 1 } });
    const mallory = await h.token("mallory", ["submitter"]);
    const alice = await h.token("alice", ["submitter"]);
    const hog = Array.from({ length: 150 }, () =>
      submitMessage("sleep", { ms: 20_000 }, { requirements: { gpu: 1 }, priority: 5 }),
    );
    for (let i = 0; i < hog.length; i += 50) {
      const batch = await h.call("POST", "/v1/tasks/batch", {
        token: mallory,
        body: { messages: hog.slice(i, i + 50) },
      });
      expect(batch.status).toBe(207);
    }
    // The GPU taken, and one principal holding at most half of the waiting room (10 places):
    // the rest stay queued.
    const counts = async () =>
      ((await h!.call("GET", "/v1/counts", { token: mallory })).body as { counts: Record<string, number> })
        .counts;
    await vi.waitFor(async () =>
      expect(await counts()).toMatchObject({ executing: 1, waiting: 5, resource_allocation: 144 }),
    );

    const urgent = await h.call("POST", "/v1/tasks", {
      token: alice,
      body: submitMessage("noop", {}, { priority: 9 }),
    });
    const urgentId = (urgent.body as { header: { task_id: string } }).header.task_id;
    expect(await finishesWithin(alice, urgentId, 3000)).toBe(true);
    // Same priority as the hog, submitted after all of it: it can run, so it does.
    const plain = await h.call("POST", "/v1/tasks", {
      token: alice,
      body: submitMessage("noop", {}, { priority: 5 }),
    });
    const plainId = (plain.body as { header: { task_id: string } }).header.task_id;
    expect(await finishesWithin(alice, plainId, 3000)).toBe(true);

    // Alice's tasks ran past the hog's without taking its places.
    expect(await counts()).toMatchObject({ executing: 1, waiting: 5, resource_allocation: 144 });
    // Another principal's GPU task still gets a place in the waiting room.
    const gpu = await h.call("POST", "/v1/tasks", {
      token: alice,
      body: submitMessage("sleep", { ms: 10 }, { requirements: { gpu: 1 } }),
    });
    const gpuId = (gpu.body as { header: { task_id: string } }).header.task_id;
    await vi.waitFor(async () => expect(await stateOf(alice, gpuId)).toBe("waiting"));
  });
});
