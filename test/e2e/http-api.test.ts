import { afterEach, describe, expect, it } from "vitest";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import { until } from "../helpers/executor.js";
import { seedExample } from "../helpers/messages.js";
import { badTokens, type ServiceHarness, startTestService, submitMessage } from "../helpers/service.js";

let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

describe("HTTP API on a real socket", () => {
  it("accepts a task (202 + task_accepted + Location), and serves it back on every read route", async () => {
    h = await startTestService({ handlers: ["examples/data_processing.ts"] });
    const alice = await h.token("alice", ["submitter"]);
    const submitted = await h.call("POST", "/v1/tasks", { token: alice, body: seedExample() });
    expect(submitted.status).toBe(202);
    const status = submitted.body as TaskStatus;
    expect(status.body).toMatchObject({ status: "resource_allocation", details: { event: "task_accepted" } });
    expect(submitted.headers.get("location")).toBe(`/v1/tasks/${status.header.task_id}`);
    const id = status.header.task_id!;

    await until(
      async () =>
        ((await h!.call("GET", `/v1/tasks/${id}`, { token: alice })).body as { state: string }).state ===
        "completed",
    );
    const snapshot = (await h.call("GET", `/v1/tasks/${id}`, { token: alice })).body;
    expect(snapshot).toMatchObject({
      id,
      reference_id: "task-123",
      type: "data_processing",
      state: "completed",
      progress: 1,
      attempts: 1,
    });
    const events = (await h.call("GET", `/v1/tasks/${id}/events`, { token: alice })).body as {
      events: TaskStatus[];
    };
    expect(events.events.map((e) => e.header.sequence)).toEqual(events.events.map((_, i) => i + 1));
    expect(events.events.at(-1)!.body.details?.event).toBe("task_completed");
    const after = (await h.call("GET", `/v1/tasks/${id}/events?after=5`, { token: alice })).body as {
      events: TaskStatus[];
    };
    expect(after.events[0]!.header.sequence).toBe(6);
    const list = (await h.call("GET", "/v1/tasks?state=completed", { token: alice })).body as {
      tasks: { id: string }[];
    };
    expect(list.tasks.map((t) => t.id)).toEqual([id]);
    const resources = (await h.call("GET", "/v1/resources", { token: alice })).body as {
      nodes: { capacity: unknown }[];
    };
    expect(resources.nodes[0]!.capacity).toEqual({ cpu: 4, memory_mb: 4096, gpu: 1 });
  });

  it("serves health, readiness, metrics, OpenAPI and the docs without a token", async () => {
    h = await startTestService();
    const admin = await h.token("root", ["admin"]);
    await h.call("POST", "/v1/tasks", { token: admin, body: submitMessage("noop") });
    expect((await h.call("GET", "/healthz")).body).toEqual({ status: "ok", auth: true });
    expect((await h.call("GET", "/readyz")).body).toEqual({ status: "ready" });
    const metrics = await h.call("GET", "/metrics");
    expect(metrics.status).toBe(200);
    for (const name of [
      "taskexec_task_execution_seconds",
      "taskexec_task_wait_seconds",
      "taskexec_tasks_submitted_total 1",
      "taskexec_tasks_finished_total",
      'taskexec_tasks{state="completed"}',
      'taskexec_resource_usage_ratio{node="',
      "taskexec_errors_total",
      'taskexec_queue_depth{priority="9"}',
    ]) {
      expect(metrics.text).toContain(name);
    }
    const openapi = (await h.call("GET", "/openapi.json")).body as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        "/v1/tasks",
        "/v1/tasks/batch",
        "/v1/tasks/{id}",
        "/v1/tasks/{id}/events",
        "/v1/tasks/{id}/cancel",
        "/v1/resources",
        "/v1/audit",
      ]),
    );
    expect((await h.call("GET", "/docs/")).status).toBe(200);
    expect(errorCode((await h.call("GET", "/no/such/route")).body)).toBe("not_found");
    // The cluster's public keys are public: no token, no private part.
    const keys = await h.call("GET", "/v1/keys");
    expect(keys.status).toBe(200);
    const jwks = keys.body as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: "RSA", use: "enc", alg: "RSA-OAEP-256", kid: expect.any(String) }),
      expect.objectContaining({
        kty: "OKP",
        crv: "Ed25519",
        use: "sig",
        alg: "EdDSA",
        kid: expect.any(String),
      }),
    ]);
    for (const key of jwks.keys) for (const part of ["d", "p", "q"]) expect(key).not.toHaveProperty(part);
    expect(Object.keys(openapi.paths)).toContain("/v1/keys");
  });

  it("guards /metrics with metrics.token when one is set", async () => {
    h = await startTestService({ metrics: { token: "scrape-me" } });
    expect((await h.call("GET", "/metrics")).status).toBe(401);
    expect((await h.call("GET", "/metrics", { headers: { authorization: "Bearer scrape-me" } })).status).toBe(
      200,
    );
  });

  it("answers a re-POST of the same message_id with 200 and the same task; another submitter gets its own", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const message = submitMessage("sleep", { ms: 1 }, { messageId: "order-7" });
    const first = await h.call("POST", "/v1/tasks", { token: alice, body: message });
    const again = await h.call("POST", "/v1/tasks", { token: alice, body: message });
    const other = await h.call("POST", "/v1/tasks", { token: bob, body: message });
    expect([first.status, again.status, other.status]).toEqual([202, 200, 202]);
    const id = (r: typeof first) => (r.body as TaskStatus).header.task_id;
    expect(id(again)).toBe(id(first));
    expect(id(other)).not.toBe(id(first));
  });

  it("refuses bad requests with the right status and code", async () => {
    h = await startTestService({ http: { port: 0, body_limit: 2048 } });
    const alice = await h.token("alice", ["submitter"]);
    const post = (options: Parameters<ServiceHarness["call"]>[2]) =>
      h!.call("POST", "/v1/tasks", { token: alice, ...options });
    const malformedJson = await post({ raw: "{not json", headers: { "content-type": "application/json" } });
    expect([malformedJson.status, errorCode(malformedJson.body)]).toEqual([400, "validation_failed"]);
    const noEnvelope = await post({ body: { hello: "world" } });
    expect(noEnvelope.status).toBe(400);
    const tooLarge = await post({ body: submitMessage("noop", { pad: "x".repeat(4000) }) });
    expect(tooLarge.status).toBe(413);
    const notJson = await post({ raw: "hello", headers: { "content-type": "text/plain" } });
    expect(notJson.status).toBe(415);
    const rejected = await post({
      body: {
        ...submitMessage("sleep", { ms: -5 }),
        body: { task_specification: { type: "sleep", parameters: { ms: "soon" } }, priority: 11 },
      },
    });
    expect(rejected.status).toBe(422);
    const details = (
      rejected.body as { error: { details: { errors: { path: string }[]; status: TaskStatus } } }
    ).error.details;
    expect(details.errors.map((e) => e.path).sort()).toEqual([
      "body.priority",
      "body.task_specification.parameters.ms",
    ]);
    expect(details.status.body.status).toBe("rejected");
    const unknownType = await post({ body: submitMessage("teleport") });
    expect([unknownType.status, errorCode(unknownType.body)]).toEqual([422, "handler_not_found"]);
    // Nothing was created by any of them.
    expect(((await h.call("GET", "/v1/tasks", { token: alice })).body as { tasks: unknown[] }).tasks).toEqual(
      [],
    );
  });

  it("refuses missing, expired, forged, unsigned and exp-less tokens with 401", async () => {
    h = await startTestService();
    const missing = await h.call("GET", "/v1/tasks");
    expect([missing.status, errorCode(missing.body)]).toEqual([401, "unauthenticated"]);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    for (const [what, token] of Object.entries(await badTokens())) {
      const answer = await h.call("POST", "/v1/tasks", { token, body: submitMessage("noop") });
      expect([what, answer.status, errorCode(answer.body)]).toEqual([what, 401, "unauthenticated"]);
    }
  });

  it("refuses the wrong role with 403", async () => {
    h = await startTestService();
    const executor = await h.token("worker-1", ["executor"]);
    const submitter = await h.token("alice", ["submitter"]);
    const noRoles = await h.token("nobody", []);
    expect((await h.call("POST", "/v1/tasks", { token: executor, body: submitMessage("noop") })).status).toBe(
      403,
    );
    expect((await h.call("GET", "/v1/audit", { token: submitter })).status).toBe(403);
    expect(errorCode((await h.call("GET", "/v1/tasks", { token: noRoles })).body)).toBe("forbidden");
    expect((await h.call("GET", "/v1/tasks", { token: executor })).status).toBe(200);
  });

  it("never shows a submitter another submitter's task: 404 on get, events and cancel; absent from lists", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const admin = await h.token("root", ["admin"]);
    const id = (
      (await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("sleep", { ms: 5000 }) }))
        .body as TaskStatus
    ).header.task_id!;
    for (const [method, path] of [
      ["GET", `/v1/tasks/${id}`],
      ["GET", `/v1/tasks/${id}/events`],
      ["POST", `/v1/tasks/${id}/cancel`],
    ] as const) {
      const answer = await h.call(method, path, { token: bob, ...(method === "POST" && { body: {} }) });
      expect([path, answer.status, errorCode(answer.body)]).toEqual([path, 404, "not_found"]);
    }
    const sse = await h.call("GET", `/v1/tasks/${id}/events`, {
      token: bob,
      headers: { accept: "text/event-stream" },
    });
    expect(sse.status).toBe(404);
    expect(((await h.call("GET", "/v1/tasks", { token: bob })).body as { tasks: unknown[] }).tasks).toEqual(
      [],
    );
    expect(
      ((await h.call("GET", "/v1/tasks", { token: admin })).body as { tasks: unknown[] }).tasks,
    ).toHaveLength(1);
    const cancelled = await h.call("POST", `/v1/tasks/${id}/cancel`, {
      token: alice,
      body: { reason: "done with it" },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ changed: true, status: { body: { status: "cancelled" } } });
  });

  it("rate-limits per principal with 429 and Retry-After", async () => {
    h = await startTestService({ limits: { submit_per_minute: 3 } });
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const statuses = [];
    for (let i = 0; i < 4; i++)
      statuses.push(await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("noop") }));
    expect(statuses.map((s) => s.status)).toEqual([202, 202, 202, 429]);
    expect(errorCode(statuses[3]!.body)).toBe("rate_limited");
    expect(Number(statuses[3]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await h.call("POST", "/v1/tasks", { token: bob, body: submitMessage("noop") })).status).toBe(202);
    const audit = (
      await h.call("GET", "/v1/audit?principal=alice&order=oldest", {
        token: await h.token("root", ["admin"]),
      })
    ).body as {
      entries: { decision: string }[];
    };
    expect(audit.entries.map((e) => e.decision)).toEqual([
      "accepted",
      "accepted",
      "accepted",
      "rate_limited",
    ]);
  });

  it("enforces quotas on unfinished tasks and on resources with 429 and Retry-After", async () => {
    h = await startTestService({ limits: { max_active_tasks: 2, max_resources: { cpu: 3 } } });
    const alice = await h.token("alice", ["submitter"]);
    const post = (body: unknown) => h!.call("POST", "/v1/tasks", { token: alice, body });
    expect((await post(submitMessage("sleep", { ms: 5000 }, { requirements: { cpu: 2 } }))).status).toBe(202);
    const tooMuchCpu = await post(submitMessage("sleep", { ms: 5000 }, { requirements: { cpu: 2 } }));
    expect([tooMuchCpu.status, errorCode(tooMuchCpu.body)]).toEqual([429, "quota_exceeded"]);
    expect(tooMuchCpu.headers.get("retry-after")).not.toBeNull();
    const second = submitMessage("sleep", { ms: 5000 }, { messageId: "second" });
    expect((await post(second)).status).toBe(202);
    const third = await post(submitMessage("noop"));
    expect([third.status, errorCode(third.body)]).toEqual([429, "quota_exceeded"]);
    // A resubmission of a task that exists costs no quota.
    expect((await post(second)).status).toBe(200);
  });

  it("submits a batch: one answer per message, in order; a bad one spoils nothing", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const messages = [
      submitMessage("noop"),
      { type: "submit_task" },
      submitMessage("nope"),
      submitMessage("sleep", { ms: 1 }, { messageId: "b" }),
      submitMessage("sleep", { ms: 1 }, { messageId: "b" }),
    ];
    const answer = await h.call("POST", "/v1/tasks/batch", { token: alice, body: { messages } });
    expect(answer.status).toBe(207);
    expect((answer.body as { results: { status: number }[] }).results.map((r) => r.status)).toEqual([
      202, 400, 422, 202, 200,
    ]);
    const tooMany = await h.call("POST", "/v1/tasks/batch", {
      token: alice,
      body: { messages: Array.from({ length: 1001 }, () => submitMessage("noop")) },
    });
    expect(tooMany.status).toBe(400);
    expect((await h.call("POST", "/v1/tasks/batch", { token: alice, body: [] })).status).toBe(400);
  });

  it("keeps an audit trail an admin can filter", async () => {
    h = await startTestService();
    const alice = await h.token("alice", ["submitter"]);
    const admin = await h.token("root", ["admin"]);
    const id = (
      (await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("sleep", { ms: 5000 }) }))
        .body as TaskStatus
    ).header.task_id!;
    await h.call("POST", "/v1/tasks", { token: alice, body: submitMessage("teleport") });
    await h.call("POST", `/v1/tasks/${id}/cancel`, { token: admin, body: {} });
    const all = (await h.call("GET", "/v1/audit?order=oldest", { token: admin })).body as {
      entries: { action: string; decision: string; principal: string }[];
    };
    expect(all.entries.map((e) => `${e.principal}:${e.action}:${e.decision}`)).toEqual([
      "alice:submit_task:accepted",
      "alice:submit_task:rejected",
      "root:cancel_task:cancelled",
    ]);
    // Newest first by default, in snake_case, with a refusal's code and a cancel's reason.
    const newest = (await h.call("GET", "/v1/audit?limit=2", { token: admin })).body as {
      entries: Record<string, unknown>[];
      next_before: number | null;
    };
    expect(newest.entries).toMatchObject([
      { action: "cancel_task", task_id: id, code: null, reason: "cancelled by request" },
      { action: "submit_task", decision: "rejected", code: "handler_not_found", task_id: null },
    ]);
    expect(newest.entries[1]!.reason).toMatch(/teleport/);
    expect(newest.entries[0]).not.toHaveProperty("taskId");
    const rest = (await h.call("GET", `/v1/audit?before=${newest.next_before}`, { token: admin })).body as {
      entries: { decision: string }[];
    };
    expect(rest.entries.map((e) => e.decision)).toEqual(["accepted"]);
    const forTask = (await h.call("GET", `/v1/audit?task_id=${id}`, { token: admin })).body as {
      entries: unknown[];
    };
    expect(forTask.entries).toHaveLength(2);
    expect(
      ((await h.call("GET", "/v1/audit?principal=root", { token: admin })).body as { entries: unknown[] })
        .entries,
    ).toHaveLength(1);
    expect((await h.call("GET", "/v1/audit?since=yesterday", { token: admin })).status).toBe(400);
  });
});
