import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";

// Hole 6 of the hardening issue: parameters nested ≥ 4,200 levels threw RangeError (call stack) in
// the store's encoder: a 500 reported as handler_error, and in a batch the valid neighbours were
// not created.
let h: ServiceHarness;
let token: string;
beforeAll(async () => {
  h = await startTestService();
  token = await h.token("mallory", ["submitter"]);
});
afterAll(async () => {
  await h.cleanup();
});

/** An object nested `levels` deep, as JSON text (the test's own JSON.stringify would overflow too). */
const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;

/** A sleep submit_task whose parameters hold `x`, given as JSON text, as JSON text. */
function messageWith(x: string, messageId: string = crypto.randomUUID()): string {
  const message = submitMessage("sleep", { ms: 1, x: "X" }, { messageId });
  return JSON.stringify(message).replace('"X"', x);
}

const json = { "content-type": "application/json" };

type ErrorAnswer = { error: { code: string; details: { errors: { path: string; message: string }[] } } };

describe("deeply nested parameters", () => {
  it("refuses nesting past 64 levels with 422 and the path, and accepts 64", async () => {
    const deep = await h.call("POST", "/v1/tasks", { token, raw: messageWith(nested(4200)), headers: json });
    expect(deep.status).toBe(422);
    const issue = (deep.body as ErrorAnswer).error.details.errors[0]!;
    expect((deep.body as ErrorAnswer).error.code).toBe("validation_failed");
    expect(issue.message).toBe("nests deeper than 64 levels");
    expect(issue.path).toBe(`body.task_specification.parameters.x${".a".repeat(63)}`);
    // `parameters` is level 1, so `x` may hold 63 more.
    const edge = await h.call("POST", "/v1/tasks", { token, raw: messageWith(nested(63)), headers: json });
    expect(edge.status).toBe(202);
  });

  it("fails only the deep message of a batch; its valid neighbours are created", async () => {
    const ids = ["left", "deep", "right"].map((name) => `${name}-${crypto.randomUUID()}`);
    const messages = [messageWith("1", ids[0]), messageWith(nested(4200), ids[1]), messageWith("1", ids[2])];
    const answer = await h.call("POST", "/v1/tasks/batch", {
      token,
      raw: `{"messages":[${messages.join(",")}]}`,
      headers: json,
    });
    expect(answer.status).toBe(207);
    const results = (answer.body as { results: { status: number }[] }).results;
    expect(results.map((r) => r.status)).toEqual([202, 422, 202]);
    for (const i of [0, 2]) {
      const id = ids[i]!;
      const list = (await h.call("GET", `/v1/tasks?q=${id}`, { token })).body as { tasks: unknown[] };
      expect(list.tasks).toHaveLength(1);
    }
  });
});
