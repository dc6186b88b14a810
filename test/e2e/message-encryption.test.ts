import { generateKeyPairSync } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CompactEncrypt, importJWK, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateResultKey } from "../../src/client/client-encryption.js";
import { HttpTaskClient } from "../../src/client/http-task-client.js";
import { defineHandler } from "../../src/handlers/handler.js";
import { isTerminal } from "../../src/protocol/states.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";
import {
  addEncryptionKey,
  ENCRYPTION_KEYS_FILE,
  EncryptionKeys,
} from "../../src/security/encryption-keys.js";
import { runCli } from "../helpers/cli.js";
import { type ServiceHarness, startTestService } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

// Message-level encryption (issue 26.3, SPEC §6): a task_specification sent as a JWE for the
// executors' key is opened at admission, its handler sees plaintext; one that cannot be opened
// is rejected, audited, and nothing of it stored; results encrypted for the submitter's key.

/** Returns what it was given: the parameters come back as the result. */
const echo = defineHandler({ type: "echo", run: ({ parameters }) => Promise.resolve(parameters) });

let h: ServiceHarness;
let token: string;
beforeAll(async () => {
  h = await startTestService({ handlers: [echo] });
  token = await h.token("alice", ["submitter"]);
});
afterAll(async () => {
  await h.cleanup();
});

async function encryptionKeys(): Promise<JWK[]> {
  const { body } = await h.call("GET", "/v1/keys");
  return (body as { keys: JWK[] }).keys.filter((k) => k.use === "enc");
}

async function jweFor(jwk: JWK, value: unknown, header: Record<string, unknown> = {}): Promise<string> {
  const alg = (header.alg as string | undefined) ?? "RSA-OAEP-256";
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg, enc: "A256GCM", kid: jwk.kid, ...header })
    .encrypt(await importJWK({ ...jwk, alg }, alg));
}

function message(specification: unknown, id = crypto.randomUUID()) {
  return {
    type: "submit_task",
    header: { message_id: id, timestamp: new Date().toISOString() },
    body: { task_specification: specification, priority: 5 },
  };
}

async function finalStatus(client: HttpTaskClient, id: string): Promise<TaskStatus> {
  let last: TaskStatus | undefined;
  for await (const status of client.watch(id)) {
    last = status;
    if (isTerminal(status.body.status)) break;
  }
  return last!;
}

async function taskCount(): Promise<number> {
  const admin = await h.token("root", ["admin"]);
  return ((await h.call("GET", "/v1/tasks?limit=1000", { token: admin })).body as { tasks: unknown[] }).tasks
    .length;
}

describe("message-level encryption", () => {
  it("serves the executors' RSA key at /v1/keys, generated into data_dir only its owner can read", async () => {
    const keys = await encryptionKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "RSA", use: "enc", alg: "RSA-OAEP-256", kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty("d");
    expect(Buffer.from(keys[0]!.n!, "base64url").length * 8).toBeGreaterThanOrEqual(2048);
    expect(statSync(join(h.dataDir, ENCRYPTION_KEYS_FILE)).mode & 0o777).toBe(0o600);
  });

  it("runs a JWE specification: the handler sees the plaintext, the snapshot its parameters", async () => {
    const [key] = await encryptionKeys();
    const jwe = await jweFor(key!, { type: "echo", parameters: { word: "sesame" } });
    const answer = await h.call("POST", "/v1/tasks", { token, body: message(jwe) });
    expect(answer.status).toBe(202);
    const id = (answer.body as TaskStatus).header.task_id!;
    const client = new HttpTaskClient({ url: h.url, token });
    const end = await finalStatus(client, id);
    expect(end.body.status).toBe("completed");
    expect(end.body.details?.result).toEqual({ word: "sesame" });
    expect((await client.get(id)).parameters).toEqual({ word: "sesame" });
  });

  it("encrypts for you: the HTTP client with encrypt sends a JWE, and it runs", async () => {
    // That what goes on the wire is a JWE shows under security.require_encryption (below).
    const client = new HttpTaskClient({ url: h.url, token, encrypt: true });
    const sent: unknown[] = [];
    const task = await client.submit({ type: "echo", parameters: { n: 1 } });
    expect((await finalStatus(client, task.id)).body.details?.result).toEqual({ n: 1 });
    const many = await client.submitMany([
      { type: "echo", parameters: { n: 2 } },
      { type: "echo", parameters: { n: 3 } },
    ]);
    for (const result of many) {
      expect(result.ok).toBe(true);
      if (result.ok) sent.push((await finalStatus(client, result.id)).body.details?.result);
    }
    expect(sent).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it("refuses a tampered JWE (each of its five parts flipped): rejected, audited, nothing stored", async () => {
    const [key] = await encryptionKeys();
    const jwe = await jweFor(key!, { type: "echo", parameters: { secret: "do-not-store" } });
    const before = await taskCount();
    const parts = jwe.split(".");
    for (let part = 0; part < 5; part++) {
      const tampered = [...parts];
      const bytes = Buffer.from(tampered[part]!, "base64url");
      // The header is JSON: flip a byte inside it; elsewhere, the first byte.
      const at = part === 0 ? bytes.indexOf(Buffer.from("A256GCM")) + 1 : 0;
      if (bytes.length === 0) tampered[part] = "AAAA";
      else {
        bytes[at] = bytes[at]! ^ 0x01;
        tampered[part] = bytes.toString("base64url");
      }
      const id = crypto.randomUUID();
      const answer = await h.call("POST", "/v1/tasks", { token, body: message(tampered.join("."), id) });
      expect(answer.status, `part ${part}`).toBe(422);
      const error = (
        answer.body as { error: { code: string; details: { errors: { path: string; message: string }[] } } }
      ).error;
      expect(error.code).toBe("validation_failed");
      expect(error.details.errors[0]).toMatchObject({ path: "body.task_specification" });
      expect(error.details.errors[0]!.message).toMatch(/^cannot decrypt/);
    }
    expect(await taskCount()).toBe(before);
    const admin = await h.token("root", ["admin"]);
    const audit = (await h.call("GET", "/v1/audit?principal=alice", { token: admin })).body as {
      entries: { decision: string; payload: unknown }[];
    };
    const refusals = audit.entries.filter(
      (e) => e.decision === "rejected" && JSON.stringify(e.payload).includes("cannot decrypt"),
    );
    expect(refusals.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(audit)).not.toContain("do-not-store");
  });

  it("refuses a JWE for a key it does not hold, and other algorithms than RSA-OAEP-256 + A256GCM", async () => {
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    const foreign = await jweFor({ ...stranger, kid: "someone-else" }, { type: "echo" });
    const answer = await h.call("POST", "/v1/tasks", { token, body: message(foreign) });
    expect(answer.status).toBe(422);
    expect(answer.text).toContain("does not hold");
    const [key] = await encryptionKeys();
    const oldAlgorithm = await jweFor(key!, { type: "echo" }, { alg: "RSA-OAEP" });
    const ecdh = await generateResultKey();
    const otherFamily = await jweFor(
      { ...ecdh.publicJwk, kid: key!.kid },
      { type: "echo" },
      { alg: "ECDH-ES+A256KW" },
    );
    expect((await h.call("POST", "/v1/tasks", { token, body: message(otherFamily) })).text).toContain(
      "not allowed",
    );
    const refused = await h.call("POST", "/v1/tasks", { token, body: message(oldAlgorithm) });
    expect(refused.status).toBe(422);
    expect(refused.text).toContain("cannot decrypt");
    for (const junk of ["not-a-jwe", "a.b.c.d.e", "....", "x".repeat(5000)]) {
      const junkAnswer = await h.call("POST", "/v1/tasks", { token, body: message(junk) });
      expect(junkAnswer.status, junk.slice(0, 20)).toBe(422);
    }
  });

  it("encrypts the result for the submitter's key: stored, streamed and served only as a JWE", async () => {
    const resultKey = await generateResultKey();
    const client = new HttpTaskClient({ url: h.url, token, encrypt: true, resultKey });
    const task = await client.submit({ type: "echo", parameters: { pin: "4711" } });
    const end = await finalStatus(client, task.id);
    expect(end.body.details?.result).toEqual({ pin: "4711" });
    expect((await client.get(task.id)).result).toEqual({ pin: "4711" });
    // Anyone else (the plain client, the admin) sees a JWE string.
    const raw = await h.call("GET", `/v1/tasks/${task.id}`, { token });
    const stored = (raw.body as { result: unknown }).result;
    expect(typeof stored).toBe("string");
    expect((stored as string).split(".")).toHaveLength(5);
    expect(JSON.stringify(stored)).not.toContain("4711");
    const events = await h.call("GET", `/v1/tasks/${task.id}/events`, { token });
    expect(events.text).not.toContain("4711");
  });

  it("refuses a private key as result_key, and says why", async () => {
    const pair = await generateResultKey();
    const { exportJWK } = await import("jose");
    const privateJwk = await exportJWK(pair.privateKey as Parameters<typeof exportJWK>[0]);
    const answer = await h.call("POST", "/v1/tasks", {
      token,
      body: message({ type: "echo", result_key: privateJwk }),
    });
    expect(answer.status).toBe(422);
    expect(answer.text).toContain("must be a public key");
  });

  it("after a rotation, lists the new key first and still opens what was encrypted for the old one", async () => {
    const [old] = await encryptionKeys();
    const newKid = await addEncryptionKey(join(h.dataDir, ENCRYPTION_KEYS_FILE));
    const rotated = await startTestService({
      handlers: [echo],
      data_dir: h.dataDir,
      store: { url: `sqlite:${join(h.dataDir, "rotated.db")}` },
    });
    try {
      const { body } = await rotated.call("GET", "/v1/keys");
      const kids = (body as { keys: JWK[] }).keys.filter((k) => k.use === "enc").map((k) => k.kid);
      expect(kids).toEqual([newKid, old!.kid]);
      const aliceHere = await rotated.token("alice", ["submitter"]);
      const client = new HttpTaskClient({ url: rotated.url, token: aliceHere });
      for (const jwk of [old!, (body as { keys: JWK[] }).keys[0]!]) {
        const answer = await rotated.call("POST", "/v1/tasks", {
          token: aliceHere,
          body: message(await jweFor(jwk, { type: "echo", parameters: { kid: jwk.kid } })),
        });
        expect(answer.status).toBe(202);
        const end = await finalStatus(client, (answer.body as TaskStatus).header.task_id!);
        expect(end.body.details?.result).toEqual({ kid: jwk.kid });
      }
    } finally {
      await rotated.service.close(0);
    }
  });
});

describe("security.require_encryption", () => {
  let strict: ServiceHarness;
  beforeAll(async () => {
    strict = await startTestService({ handlers: [echo], security: { require_encryption: true } });
  });
  afterAll(async () => {
    await strict.cleanup();
  });

  it("rejects a plaintext specification with the reason, and accepts an encrypted one", async () => {
    const alice = await strict.token("alice", ["submitter"]);
    const plain = await strict.call("POST", "/v1/tasks", { token: alice, body: message({ type: "echo" }) });
    expect(plain.status).toBe(422);
    expect(plain.text).toContain("accepts only encrypted task specifications");
    const client = new HttpTaskClient({ url: strict.url, token: alice, encrypt: true });
    const task = await client.submit({ type: "echo", parameters: { ok: true } });
    expect((await finalStatus(client, task.id)).body.details?.result).toEqual({ ok: true });
  });

  it("taskexec submit --encrypt sends it encrypted; without, the CLI says why it was rejected", async () => {
    const connection = ["--url", strict.url, "--token", await strict.token("alice", ["submitter"])];
    const sealed = await runCli([
      "submit",
      "echo",
      "--params",
      '{"a":1}',
      "--encrypt",
      "--wait",
      ...connection,
    ]);
    expect(sealed.stdout).toMatch(/completed\s+task_completed/);
    expect(sealed.code).toBe(0);
    const plain = await runCli(["submit", "echo", "--params", '{"a":1}', ...connection]);
    expect(plain.stderr).toContain("accepts only encrypted task specifications");
    expect(plain.code).toBe(1);
  });
});

describe("taskexec keys rotate --encryption", () => {
  it("puts a new current key first in the data directory's file, keeping the old ones", async () => {
    const tmp = tempDir();
    try {
      const env = { TASKEXEC_DATA_DIR: tmp.dir };
      const first = await runCli(["keys", "rotate", "--encryption", "--json"], { env, cwd: tmp.dir });
      const second = await runCli(["keys", "rotate", "--encryption", "--json"], { env, cwd: tmp.dir });
      expect([first.code, second.code]).toEqual([0, 0]);
      const file = join(tmp.dir, ENCRYPTION_KEYS_FILE);
      const kids = (JSON.parse(readFileSync(file, "utf8")) as { keys: JWK[] }).keys.map((k) => k.kid);
      expect(kids).toEqual([JSON.parse(second.stdout).kid, JSON.parse(first.stdout).kid]);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const keys = new EncryptionKeys({ dataDir: tmp.dir });
      expect((await keys.publicJwks()).map((k) => k.kid)).toEqual(kids);
      const vague = await runCli(["keys", "rotate"], { env, cwd: tmp.dir });
      expect(vague.code).toBe(2);
      expect(vague.stderr).toContain("--encryption");
      writeFileSync(file, "{ not json");
      const broken = await runCli(["keys", "rotate", "--encryption"], { env, cwd: tmp.dir });
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toContain("security.encryption_key_file");
      expect(broken.stderr).not.toMatch(/\n\s+at /);
    } finally {
      tmp.remove();
    }
  });
});
