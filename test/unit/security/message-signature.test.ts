import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  executorSignatureCheck,
  MessageSigner,
  MessageVerifier,
  signingKey,
} from "../../../src/security/message-signature.js";
import { signToken } from "../../../src/security/token-signer.js";
import { tempDir } from "../../helpers/temp.js";

const SECRET = "unit-secret-unit-secret-unit-secret-0123";
const key = await signingKey({ secret: SECRET });
const keys = { keys: [key.publicJwk] };
const message = JSON.stringify({ type: "task_status", body: { status: "completed" } });

/** Runs `then` with the clock moved `ms` past now (signatures are judged by the wall clock). */
async function later<T>(ms: number, then: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + ms });
  try {
    return await then();
  } finally {
    vi.useRealTimers();
  }
}

describe("message signatures", () => {
  afterEach(() => vi.useRealTimers());

  it("derive one key from one secret, and serve its public half with a kid, for signatures", async () => {
    const again = await signingKey({ secret: SECRET });
    const other = await signingKey({ secret: `${SECRET}-other` });
    expect(again.publicJwk).toEqual(key.publicJwk);
    expect(other.publicJwk.x).not.toBe(key.publicJwk.x);
    expect(key.publicJwk).toMatchObject({ kty: "OKP", crv: "Ed25519", use: "sig", alg: "EdDSA" });
    expect(key.publicJwk.kid).toMatch(/^[\w-]{43}$/);
    expect(key.publicJwk).not.toHaveProperty("d");
  });

  it("read an Ed25519 key file, and refuse a file of another kind with the key's path", async () => {
    const tmp = tempDir();
    try {
      const ed = join(tmp.dir, "ed.pem");
      const rsa = join(tmp.dir, "rsa.pem");
      const pem = { format: "pem", type: "pkcs8" } as const;
      writeFileSync(ed, generateKeyPairSync("ed25519").privateKey.export(pem));
      writeFileSync(rsa, generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export(pem));
      const fromFile = await signingKey({ file: ed, secret: SECRET });
      expect(fromFile.publicJwk.x).not.toBe(key.publicJwk.x); // the file wins over the secret
      await expect(signingKey({ file: rsa })).rejects.toThrow(/security\.signing_key_file[\s\S]*rsa key/);
      await expect(signingKey({ file: join(tmp.dir, "none.pem") })).rejects.toThrow(/cannot be read/);
    } finally {
      tmp.remove();
    }
  });

  it("name their signer and its roles, for that one message only", async () => {
    const signature = await new MessageSigner(key, "worker:n1", ["executor"]).sign(message);
    const verifier = new MessageVerifier(keys);
    expect(await verifier.verify(signature, message)).toEqual({ id: "worker:n1", roles: ["executor"] });
    const other = await new MessageSigner(key, "worker:n1", ["executor"]).sign(message);
    await expect(verifier.verify(other, `${message} `)).rejects.toThrow(/another message/);
  });

  it("are refused when made with another key, or when they are a plain token", async () => {
    const stranger = await signingKey({ secret: "someone-else-someone-else-someone-else" });
    const forged = await new MessageSigner(stranger, "worker:n1", ["executor"]).sign(message);
    const verifier = new MessageVerifier(keys);
    await expect(verifier.verify(forged, message)).rejects.toMatchObject({ code: "unauthenticated" });
    // A token minted for HTTP (HS256, no audience, no digest) signs no message.
    const token = await signToken(SECRET, { sub: "alice", roles: ["executor"], ttl: "1h" });
    await expect(verifier.verify(token, message)).rejects.toThrow(/not valid for a message/);
  });

  it("are refused once expired, with no tolerance (found: a status 5 s past its expiry was taken)", async () => {
    const signature = await new MessageSigner(key, "worker:n1", ["executor"]).sign(message);
    // A signature lives 120 s; a second past, it is refused, though the token clock tolerance is 5 s.
    const verifier = new MessageVerifier(keys, { windowMs: 120_000, clockSkewS: 5 });
    await expect(later(121_000, () => verifier.verify(signature, message))).rejects.toThrow(/not valid/);
  });

  it("are refused outside the window, and when dated ahead of this clock by more than the skew", async () => {
    const signature = await new MessageSigner(key, "worker:n1", ["executor"]).sign(message);
    const verifier = new MessageVerifier(keys, { windowMs: 30_000, clockSkewS: 2 });
    await expect(later(31_000, () => verifier.verify(signature, message))).rejects.toThrow(
      /signed 3\d s ago \(a replay\?\)/,
    );
    const ahead = await later(10_000, () => new MessageSigner(key, "w", ["executor"]).sign(message));
    await expect(verifier.verify(ahead, message)).rejects.toThrow(/in the future/);
    const aLittle = await later(1_500, () => new MessageSigner(key, "w", ["executor"]).sign(message));
    await expect(verifier.verify(aLittle, message)).resolves.toMatchObject({ id: "w" });
  });

  it("are refused when seen before, unless the broker delivers the same message again", async () => {
    const signature = await new MessageSigner(key, "worker:n1", ["executor"]).sign(message);
    const verifier = new MessageVerifier(keys);
    await verifier.verify(signature, message);
    await expect(verifier.verify(signature, message)).rejects.toThrow(/seen before/);
    await expect(verifier.verify(signature, message, { redelivered: true })).resolves.toMatchObject({
      id: "worker:n1",
    });
  });

  it("forget the oldest ids past their bound, and still refuse the ones kept", async () => {
    const signer = new MessageSigner(key, "w", ["executor"]);
    const verifier = new MessageVerifier(keys, { rememberIds: 3 });
    const signatures = await Promise.all([1, 2, 3, 4].map(() => signer.sign(message)));
    for (const s of signatures) await verifier.verify(s, message);
    await expect(verifier.verify(signatures[3]!, message)).rejects.toThrow(/seen before/);
    await expect(verifier.verify(signatures[0]!, message)).resolves.toBeDefined(); // forgotten
  });

  it("of work last while it waits, may come again, and sign nothing else (nor the other way)", async () => {
    const signer = new MessageSigner(key, "api:a1", ["executor"]);
    const work = await signer.sign(message, { work: true });
    const verifier = new MessageVerifier(keys);
    const hourLater = () => verifier.verify(work, message, { work: true });
    await expect(later(3_600_000, hourLater)).resolves.toMatchObject({ id: "api:a1" });
    await expect(verifier.verify(work, message, { work: true })).resolves.toBeDefined();
    await expect(verifier.verify(work, message)).rejects.toThrow(/another kind/);
    const status = await signer.sign(message);
    await expect(verifier.verify(status, message, { work: true })).rejects.toThrow(/another kind/);
  });

  it("count for the cluster only when an executor or an admin made them", async () => {
    const check = executorSignatureCheck(keys);
    const by = (roles: ("executor" | "admin" | "submitter")[]) =>
      new MessageSigner(key, "p", roles).sign(message);
    const once = { redelivered: false };
    expect(await check(await by(["executor"]), message, once)).toBe(true);
    expect(await check(await by(["admin"]), message, once)).toBe(true);
    expect(await check(await by(["submitter"]), message, once)).toBe(false);
  });

  it("made in one turn share one JWT, each bound to its own message and place", async () => {
    const signer = new MessageSigner(key, "worker:n1", ["executor"]);
    const bodies = [1, 2, 3, 4, 5].map((n) => JSON.stringify({ type: "task_status", n }));
    const signatures = await Promise.all(bodies.map((body) => signer.sign(body)));
    const jwts = new Set(signatures.map((s) => s.split("~")[0]));
    expect(jwts.size).toBe(1);
    expect(signatures.map((s) => s.split("~")[1])).toEqual(["0", "1", "2", "3", "4"]);
    const verifier = new MessageVerifier(keys);
    // Another message's signature, the JWT without its proof, another place: refused.
    await expect(verifier.verify(signatures[0]!, bodies[1]!)).rejects.toThrow(/another message/);
    await expect(verifier.verify(signatures[0]!.split("~")[0]!, bodies[0]!)).rejects.toThrow(
      /another message/,
    );
    const [jwt, , ...path] = signatures[2]!.split("~");
    await expect(verifier.verify([jwt, "3", ...path].join("~"), bodies[2]!)).rejects.toThrow(
      /another message/,
    );
    for (const [i, body] of bodies.entries())
      expect(await verifier.verify(signatures[i]!, body)).toEqual({ id: "worker:n1", roles: ["executor"] });
    // Each message of the batch is single-use on its own.
    await expect(verifier.verify(signatures[4]!, bodies[4]!)).rejects.toThrow(/seen before/);
  });

  it("of a batch are refused once its JWT expired, though it was checked before", async () => {
    const signer = new MessageSigner(key, "worker:n1", ["executor"]);
    const [first, second] = await Promise.all([signer.sign(message), signer.sign(`${message} `)]);
    const verifier = new MessageVerifier(keys);
    await verifier.verify(first, message);
    await expect(later(121_000, () => verifier.verify(second, `${message} `))).rejects.toThrow(/expired/);
  });

  it("of a batch signed with another key are refused, whatever the proof", async () => {
    const stranger = await signingKey({ secret: "someone-else-someone-else-someone-else" });
    const forger = new MessageSigner(stranger, "worker:n1", ["executor"]);
    const [a] = await Promise.all([forger.sign(message), forger.sign(`${message} `)]);
    await expect(new MessageVerifier(keys).verify(a, message)).rejects.toThrow(/not valid for a message/);
  });
});
