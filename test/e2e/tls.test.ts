import { execFileSync } from "node:child_process";
import { get } from "node:https";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ServiceHarness, startTestService } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

let h: ServiceHarness | undefined;
let tmp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await h?.cleanup();
  tmp?.remove();
  h = undefined;
});

function getHealth(url: string, tls: { minVersion?: "TLSv1.3"; maxVersion?: "TLSv1.2" }): Promise<number> {
  return new Promise((resolve, reject) => {
    get(`${url}/healthz`, { rejectUnauthorized: false, ...tls }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject);
  });
}

describe("HTTPS", () => {
  it("serves HTTPS with TLS 1.3 when tls.cert and tls.key are set, and refuses TLS 1.2", async () => {
    tmp = tempDir();
    const cert = join(tmp.dir, "cert.pem");
    const key = join(tmp.dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ],
      {
        stdio: "ignore",
      },
    );
    h = await startTestService({ tls: { cert, key } });
    expect(h.url.startsWith("https://")).toBe(true);
    expect(await getHealth(h.url, { minVersion: "TLSv1.3" })).toBe(200);
    await expect(getHealth(h.url, { maxVersion: "TLSv1.2" })).rejects.toThrow();
  });

  it("refuses to start without auth on a non-loopback address", async () => {
    await expect(
      startTestService({ http: { host: "0.0.0.0", port: 0 }, auth: { enabled: false } }),
    ).rejects.toMatchObject({
      name: "ConfigError",
      problems: [{ path: "http.host" }],
    });
  });
});
