import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService, submitMessage, TEST_SECRET } from "../../helpers/service.js";

// Hole 10 of the hardening issue, the smaller ones, each as it was found.
let h: ServiceHarness;
let alice: string;
beforeAll(async () => {
  h = await startTestService({ limits: { max_resources: { cpu: 2 } } });
  alice = await h.token("alice", ["submitter"]);
});
afterAll(async () => {
  await h.cleanup();
});

const json = { "content-type": "application/json" };
const errorOf = (body: unknown) => (body as { error: { code: string; message: string } }).error;

async function tokenWith(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(TEST_SECRET));
}

describe("the smaller holes", () => {
  it("refuses a resource named like an Object.prototype member, as any unknown resource", async () => {
    for (const kind of ["constructor", "tostring", "valueof"]) {
      const answer = await h.call("POST", "/v1/tasks", {
        token: alice,
        body: submitMessage("noop", {}, { requirements: { [kind]: 1e300 } }),
      });
      expect([kind, answer.status, errorOf(answer.body).code]).toEqual([kind, 422, "resource_unsatisfiable"]);
    }
    const resources = (await h.call("GET", "/v1/resources", { token: alice })).text;
    expect(resources).not.toContain("null");
    expect(resources).not.toContain("constructor");
  });

  it("says what quota was hit without printing a function", async () => {
    await h.call("POST", "/v1/tasks", {
      token: alice,
      body: submitMessage("sleep", { ms: 5000 }, { requirements: { cpu: 2 } }),
    });
    const over = await h.call("POST", "/v1/tasks", {
      token: alice,
      body: submitMessage("sleep", { ms: 5000 }, { requirements: { cpu: 1 } }),
    });
    expect(over.status).toBe(429);
    expect(errorOf(over.body).message).toBe(
      "at most 2 cpu across unfinished tasks per principal (in use 2, asked 1)",
    );
    expect(over.text).not.toContain("function");
  });

  it("refuses tokens whose sub is not a non-empty string, or that have no roles, with 401", async () => {
    const cases = {
      "numeric sub": await tokenWith({ sub: 123, roles: ["admin"] }),
      "empty sub": await tokenWith({ sub: "", roles: ["admin"] }),
      "blank sub": await tokenWith({ sub: "  ", roles: ["admin"] }),
      "no roles": await tokenWith({ sub: "bob" }),
      "roles not an array": await tokenWith({ sub: "bob", roles: "admin" }),
    };
    for (const [name, token] of Object.entries(cases)) {
      const answer = await h.call("GET", "/v1/tasks", { token });
      expect([name, answer.status, errorOf(answer.body).code]).toEqual([name, 401, "unauthenticated"]);
    }
  });

  it("answers 431, a bad URL and prototype keys in our error shape, saying what is wrong", async () => {
    const big = await fetch(`${h.url}/healthz`, { headers: { "x-big": "a".repeat(20_000) } });
    expect(big.status).toBe(431);
    expect(errorOf(await big.json()).code).toBe("validation_failed");
    const badUrl = await h.call("GET", "/v1/tasks/%E0%A4%A", { token: alice });
    expect([badUrl.status, errorOf(badUrl.body).code]).toEqual([400, "validation_failed"]);
    const proto = await h.call("POST", "/v1/tasks", {
      token: alice,
      raw: '{"__proto__":{"admin":true}}',
      headers: json,
    });
    expect(proto.status).toBe(400);
    expect(errorOf(proto.body).message).toContain('"__proto__"');
    const broken = await h.call("POST", "/v1/tasks", { token: alice, raw: '{"type":', headers: json });
    expect(errorOf(broken.body).message).toMatch(/^the body is not valid JSON: /);
  });

  it("shows a submitter its own running and waiting tasks only in /v1/resources", async () => {
    const bob = await h.token("bob", ["submitter"]);
    for (let i = 0; i < 3; i++)
      await h.call("POST", "/v1/tasks", { token: bob, body: submitMessage("sleep", { ms: 3000 }) });
    await new Promise((r) => setTimeout(r, 200));
    const mine = (await h.call("GET", "/v1/resources", { token: await h.token("carol", ["submitter"]) }))
      .body as {
      nodes: { running: number; waiting: number }[];
    };
    expect(mine.nodes[0]).toMatchObject({ running: 0, waiting: 0 });
    const all = (await h.call("GET", "/v1/resources", { token: await h.token("root", ["admin"]) })).body as {
      nodes: { running: number }[];
    };
    expect(all.nodes[0]!.running).toBeGreaterThanOrEqual(3);
  });

  it("serves /docs with a content security policy, and every response with nosniff", async () => {
    const docs = await fetch(`${h.url}/docs/`);
    expect(docs.status).toBe(200);
    const csp = docs.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    for (const path of ["/healthz", "/v1/tasks", "/openapi.json", "/nope"])
      expect([path, (await fetch(`${h.url}${path}`)).headers.get("x-content-type-options")]).toEqual([
        path,
        "nosniff",
      ]);
  });
});
