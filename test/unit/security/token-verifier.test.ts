import { describe, expect, it } from "vitest";
import { compileOptions } from "../../../src/config/options.js";
import { createTokenVerifier } from "../../../src/security/token-verifier.js";
import { signToken } from "../../../src/security/token-signer.js";

const SECRET = "unit-secret-unit-secret-unit-secret-0123";

function verifier(clockToleranceS = 0) {
  return createTokenVerifier(
    compileOptions({ auth: { jwt_secret: SECRET, clock_tolerance_s: clockToleranceS } }).auth,
  );
}

describe("token verifier", () => {
  it("answers a token it verified again from its cache, with the same principal", async () => {
    const verify = verifier();
    const token = await signToken(SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" });
    const first = await verify.verify(token);
    expect(first).toEqual({ id: "alice", roles: ["submitter"] });
    expect(await verify.verify(token)).toBe(first);
    // A forged variant of a cached token is still checked: the cache is keyed by the whole token.
    const forged = `${token.slice(0, -4)}AAAA`;
    await expect(verify.verify(forged)).rejects.toThrow(/signature|malformed/);
  });

  it("refuses a cached token once it has expired", async () => {
    const verify = verifier(0);
    const token = await signToken(SECRET, { sub: "bob", roles: ["admin"], ttl: "1s" });
    await verify.verify(token);
    // exp has second resolution: wait until the second after it has begun.
    const { exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number };
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    await expect(verify.verify(token)).rejects.toThrow(/expired/);
  });

  it("checks a token brought by many requests at once once, and each gets its answer", async () => {
    const verify = verifier();
    const token = await signToken(SECRET, { sub: "carol", roles: ["admin"], ttl: "1h" });
    const principals = await Promise.all(Array.from({ length: 50 }, () => verify.verify(token)));
    // One check made one principal: every request got that same object.
    expect(new Set(principals).size).toBe(1);
    expect(principals[0]).toEqual({ id: "carol", roles: ["admin"] });
    const forged = `${token.slice(0, -4)}AAAA`;
    const refusals = await Promise.allSettled(Array.from({ length: 5 }, () => verify.verify(forged)));
    expect(refusals.every((r) => r.status === "rejected")).toBe(true);
    // A refusal is not kept: the same bad token is checked (and refused) again.
    await expect(verify.verify(forged)).rejects.toThrow(/signature|malformed/);
  });
});
