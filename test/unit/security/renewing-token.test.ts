import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { RenewingToken } from "../../../src/security/renewing-token.js";

describe("RenewingToken", () => {
  it("mints once, shares it, and mints again when less than a tenth of its life is left", async () => {
    let now = 1_000_000;
    const token = new RenewingToken(
      "test-secret-test-secret-test-secret-0123",
      "worker-1",
      ["executor"],
      100,
      () => now,
    );
    const [a, b] = await Promise.all([token.get(), token.get()]);
    expect(a).toBe(b);
    expect(decodeJwt(a)).toMatchObject({ sub: "worker-1", roles: ["executor"] });
    now += 89_000;
    expect(await token.get()).toBe(a);
    now += 2_000; // past 90 s of a 100 s token
    await new Promise((r) => setTimeout(r, 1_100)); // jose's iat counts whole seconds
    const c = await token.get();
    expect(c).not.toBe(a);
    expect(decodeJwt(c).exp! - decodeJwt(c).iat!).toBe(100);
  });
});
