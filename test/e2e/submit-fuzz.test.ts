import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SubmitTask } from "../../src/protocol/submit-task.js";
import { type ServiceHarness, startTestService } from "../helpers/service.js";

let h: ServiceHarness;
let token: string;
beforeAll(async () => {
  h = await startTestService({ max_concurrent_tasks: 4 });
  token = await h.token("fuzzer", ["submitter"]);
});

/** Every task of the fuzzer's, counted through the list's pages. */
async function storedTasks(): Promise<number> {
  let stored = 0;
  let cursor: string | null = null;
  do {
    const page = (await h.call("GET", `/v1/tasks?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, { token }))
      .body as { tasks: unknown[]; next_cursor: string | null };
    stored += page.tasks.length;
    cursor = page.next_cursor;
  } while (cursor !== null);
  return stored;
}
afterAll(async () => {
  await h.cleanup();
});

const PATHS: (string | number)[][] = [
  ["type"],
  ["header"],
  ["header", "message_id"],
  ["header", "timestamp"],
  ["header", "protocol_version"],
  ["body"],
  ["body", "priority"],
  ["body", "deadline"],
  ["body", "task_specification"],
  ["body", "task_specification", "type"],
  ["body", "task_specification", "parameters"],
  ["body", "task_specification", "parameters", "ms"],
  ["body", "task_specification", "requirements"],
  ["body", "task_specification", "timeout_ms"],
  ["body", "task_specification", "max_attempts"],
];

function validMessage(id: string) {
  return {
    type: "submit_task",
    header: { message_id: id, timestamp: new Date().toISOString() },
    body: { task_specification: { type: "sleep", parameters: { ms: 1 } }, priority: 5 },
  };
}

/** A valid message with a few of its fields replaced by arbitrary JSON, or removed. */
const mutated = fc
  .tuple(
    fc.uuid(),
    fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.option(fc.jsonValue(), { nil: undefined })), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([id, edits]) => {
    const message = validMessage(id) as unknown as Record<string, unknown>;
    for (const [path, value] of edits) {
      let node: Record<string | number, unknown> = message;
      for (const key of path.slice(0, -1)) {
        const next = node[key];
        if (typeof next !== "object" || next === null) break;
        node = next as Record<string | number, unknown>;
      }
      const last = path[path.length - 1]!;
      if (value === undefined) delete node[last];
      else node[last] = value;
    }
    return JSON.stringify(message);
  });

const body = fc.oneof(
  { weight: 5, arbitrary: mutated },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uuid().map((id) => JSON.stringify(validMessage(id))) },
);

describe("POST /v1/tasks under random and mutated bodies", () => {
  it("never answers 5xx, never creates a task from an invalid body, and keeps serving", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        const answer = await h.call("POST", "/v1/tasks", {
          token,
          raw,
          headers: { "content-type": "application/json" },
        });
        expect(answer.status).toBeLessThan(500);
        expect([200, 202, 400, 413, 415, 422]).toContain(answer.status);
        if (answer.status === 202) {
          accepted += 1;
          // Whatever the server accepts satisfies the published schema.
          expect(SubmitTask.safeParse(JSON.parse(raw)).success).toBe(true);
        } else {
          expect((answer.body as { error?: { code?: string } }).error?.code).toBeTypeOf("string");
        }
      }),
      { numRuns: 1000 },
    );
    expect(await storedTasks()).toBe(accepted);
    expect(accepted).toBeGreaterThan(50);
    expect((await h.call("GET", "/healthz")).status).toBe(200);
    expect(
      (await h.call("POST", "/v1/tasks", { token, body: validMessage(crypto.randomUUID()) })).status,
    ).toBe(202);
  }, 120_000);
});

/** Parameters nested `levels` deep, as JSON text (too deep for JSON.stringify to write). */
const deepParameters = (levels: number) => `{"ms":1,"x":${'{"a":'.repeat(levels)}1${"}".repeat(levels)}}`;

/** Entries a hostile client may put in a batch, as JSON text: each is answered alone. */
const hostileEntry = fc.oneof(
  { weight: 4, arbitrary: body.filter((raw) => !raw.includes("__proto__") && isJsonText(raw)) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 65, max: 6000 })
      .chain((levels) =>
        fc.uuid().map((id) => JSON.stringify(validMessage(id)).replace('{"ms":1}', deepParameters(levels))),
      ),
  },
  {
    weight: 1,
    arbitrary: fc.uuid().map((id) => JSON.stringify({ ...validMessage(id), body: { priority: 1e308 } })),
  },
  {
    weight: 1,
    arbitrary: fc
      .uuid()
      .map((id) =>
        JSON.stringify(validMessage(id)).replace('{"ms":1}', `{"ms":1,"pad":"${"x".repeat(20_000)}"}`),
      ),
  },
);

function isJsonText(raw: string): boolean {
  try {
    JSON.parse(raw);
    return true;
  } catch {
    return false;
  }
}

describe("POST /v1/tasks/batch under hostile neighbours", () => {
  it("never answers 5xx, answers every entry alone, and creates every valid one", async () => {
    const before = await storedTasks();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.uuid().map((id) => ({ valid: true, raw: JSON.stringify(validMessage(id)) })),
            hostileEntry.map((raw) => ({ valid: false, raw })),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        async (entries) => {
          const answer = await h.call("POST", "/v1/tasks/batch", {
            token,
            raw: `{"messages":[${entries.map((e) => e.raw).join(",")}]}`,
            headers: { "content-type": "application/json" },
          });
          expect(answer.status).toBe(207);
          const results = (
            answer.body as { results: { status: number; body: { error?: { code?: string } } }[] }
          ).results;
          expect(results).toHaveLength(entries.length);
          for (const [i, result] of results.entries()) {
            expect(result.status).toBeLessThan(500);
            if (entries[i]!.valid) expect(result.status).toBe(202);
            if (result.status === 202) accepted += 1;
            else if (result.status !== 200) expect(result.body.error?.code).toBeTypeOf("string");
          }
        },
      ),
      { numRuns: 150 },
    );
    expect(await storedTasks()).toBe(before + accepted);
    expect((await h.call("GET", "/healthz")).status).toBe(200);
  }, 120_000);
});
