import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService } from "../helpers/service.js";

let h: ServiceHarness | undefined;
let jwks: Server | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await new Promise<void>((r) => (jwks ? jwks.close(() => r()) : r()));
  jwks = undefined;
});

type PrivateKey = Parameters<SignJWT["sign"]>[0];

const sign = (key: PrivateKey, alg: string, claims: { iss?: string; aud?: string; kid?: string } = {}) => {
  let jwt = new SignJWT({ roles: ["submitter"] })
    .setProtectedHeader({ alg, ...(claims.kid && { kid: claims.kid }) })
    .setSubject("alice")
    .setExpirationTime("5m");
  if (claims.iss) jwt = jwt.setIssuer(claims.iss);
  if (claims.aud) jwt = jwt.setAudience(claims.aud);
  return jwt.sign(key);
};

describe("tokens signed with asymmetric keys", () => {
  it("verifies ES256 and RS256 tokens against auth.public_key, and checks iss and aud", async () => {
    for (const alg of ["ES256", "RS256"] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      h = await startTestService({
        auth: { public_key: await exportSPKI(publicKey), issuer: "https://id.example", audience: "taskexec" },
      });
      const good = await sign(privateKey, alg, { iss: "https://id.example", aud: "taskexec" });
      expect([alg, (await h.call("GET", "/v1/tasks", { token: good })).status]).toEqual([alg, 200]);
      const wrongIssuer = await sign(privateKey, alg, { iss: "https://evil.example", aud: "taskexec" });
      expect((await h.call("GET", "/v1/tasks", { token: wrongIssuer })).status).toBe(401);
      const noAudience = await sign(privateKey, alg, { iss: "https://id.example" });
      expect((await h.call("GET", "/v1/tasks", { token: noAudience })).status).toBe(401);
      const other = await generateKeyPair(alg);
      expect(
        (
          await h.call("GET", "/v1/tasks", {
            token: await sign(other.privateKey, alg, { iss: "https://id.example", aud: "taskexec" }),
          })
        ).status,
      ).toBe(401);
      await h.cleanup();
      h = undefined;
    }
  });

  it("verifies tokens against keys fetched from auth.jwks_url", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks!.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    h = await startTestService({ auth: { jwks_url: url } });
    expect(
      (await h.call("GET", "/v1/tasks", { token: await sign(privateKey, "ES256", { kid: "key-1" }) })).status,
    ).toBe(200);
    const stranger = await generateKeyPair("ES256");
    expect(
      (
        await h.call("GET", "/v1/tasks", {
          token: await sign(stranger.privateKey, "ES256", { kid: "key-1" }),
        })
      ).status,
    ).toBe(401);
  });
});
