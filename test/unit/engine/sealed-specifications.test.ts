import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { CompactEncrypt, importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSpecifications } from "../../../src/engine/sealed-specifications.js";
import { TaskValidator, type Validation } from "../../../src/engine/task-validator.js";
import { sleepHandler } from "../../../src/handlers/builtin/sleep.js";
import { HandlerRegistry } from "../../../src/handlers/registry.js";
import { EncryptionKeys } from "../../../src/security/encryption-keys.js";

// The protocol decoder (openSpecifications, then TaskValidator) decides alike for a specification
// sent in clear and the same one sent as a JWE, and never throws on a string that is not one.

let dir: string;
let keys: EncryptionKeys;
let publicKey: JWK;
const registry = new HandlerRegistry();
registry.register(sleepHandler);
const validator = new TaskValidator({
  registry,
  capacity: () => ({ cpu: 4, memory_mb: 4096 }),
  defaultMaxAttempts: 3,
  node: "n1",
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskexec-sealed-"));
  keys = new EncryptionKeys({ dataDir: dir });
  publicKey = (await keys.publicJwks())[0]!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function encrypt(value: unknown): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", kid: publicKey.kid })
    .encrypt(await importJWK(publicKey, "RSA-OAEP-256"));
}

function message(specification: unknown) {
  return {
    type: "submit_task",
    header: { message_id: "m-1", timestamp: new Date().toISOString() },
    body: { task_specification: specification, priority: 5 },
  };
}

async function decode(specification: unknown, requireEncryption = false): Promise<Validation> {
  const batch = [message(specification)];
  const opened = await openSpecifications(batch, keys, requireEncryption);
  return validator.validate("alice", opened.messages[0], Date.now(), opened.issues.get(0));
}

/** What a decision says, without the ids and times each decoding makes anew. */
function decision(v: Validation) {
  return v.ok
    ? { ok: true, type: v.task.type, parameters: v.task.parameters, requirements: v.task.requirements }
    : { ok: false, code: v.code, issues: v.issues.map((i) => i.path) };
}

const specification = fc.record(
  {
    type: fc.oneof(fc.constant("sleep"), fc.string({ maxLength: 12 })),
    parameters: fc.oneof(
      fc.record({ ms: fc.oneof(fc.integer({ min: -5, max: 100 }), fc.jsonValue()) }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 })),
    ),
    requirements: fc.dictionary(fc.constantFrom("cpu", "gpu", "memory_mb"), fc.integer({ min: -1, max: 9 })),
    max_attempts: fc.integer({ min: -1, max: 120 }),
  },
  { requiredKeys: ["type"] },
);

describe("the decoder of submit_task, plaintext and JWE", () => {
  it("decides alike for a specification in clear and the same one encrypted", async () => {
    await fc.assert(
      fc.asyncProperty(specification, async (spec) => {
        const clear = decision(await decode(spec));
        const sealed = decision(await decode(await encrypt(spec)));
        expect(sealed).toEqual(clear);
      }),
      { numRuns: 60 },
    );
  });

  it("refuses, never throws, on any string that is not a JWE for its key", async () => {
    const jweLike = fc
      .array(
        fc.base64String({ maxLength: 40 }).map((s) => s.replace(/=/g, "")),
        { minLength: 5, maxLength: 5 },
      )
      .map((parts) => parts.join("."));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ minLength: 1 }), jweLike), async (text) => {
        const v = await decode(text);
        expect(v.ok).toBe(false);
        if (!v.ok)
          expect(v.issues[0]).toMatchObject({ path: "body.task_specification", code: "validation_failed" });
      }),
      { numRuns: 200 },
    );
  });

  it("refuses what decrypts to anything but a JSON object", async () => {
    for (const value of [42, "sleep", [1, 2], null]) {
      const v = await decode(await encrypt(value));
      expect(v.ok).toBe(false);
      if (!v.ok) expect(v.issues[0]!.message).toMatch(/must be a JSON object/);
    }
  });

  it("under require_encryption refuses the clear one and accepts the encrypted one", async () => {
    const spec = { type: "sleep", parameters: { ms: 1 } };
    const clear = await decode(spec, true);
    expect(clear.ok).toBe(false);
    if (!clear.ok) expect(clear.issues[0]!.message).toMatch(/accepts only encrypted/);
    expect((await decode(await encrypt(spec), true)).ok).toBe(true);
  });

  it("leaves a batch with nothing encrypted as it is", async () => {
    const batch = [message({ type: "sleep" }), message({ type: "sleep", parameters: { ms: 2 } })];
    const opened = await openSpecifications(batch, keys, false);
    expect(opened.messages).toEqual(batch);
    expect(opened.issues.size).toBe(0);
  });
});
