import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { signToken } from "../../../src/security/token-signer.js";
import { freePort, killServes, serve, serveEnv } from "../../helpers/serve.js";
import { TEST_SECRET } from "../../helpers/service.js";
import { tempDir } from "../../helpers/temp.js";

// Hole 4 of the hardening issue: a POST with Content-Length 100000 and one byte sent stayed open
// ≥ 200 s with no Authorization header, and 1,100 of them made /healthz fail: the token was
// checked only after the body, and nothing timed a slow request out.
const tmp = tempDir();
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  killServes();
});

interface Exchange {
  /** What the server sent before it closed the socket. */
  answer: string;
  /** Milliseconds from the request's first byte to the server closing the socket. */
  closedAfterMs: number;
}

/** Sends the headers of a POST and one byte of its 100,000-byte body, then waits for the server to close. */
function slowPost(port: number, headers: string, giveUpMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const started = Date.now();
    let answer = "";
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.write(
        `POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n${headers}\r\n{`,
      );
    });
    sockets.push(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ answer, closedAfterMs: Number.POSITIVE_INFINITY });
    }, giveUpMs);
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

describe("slow request bodies against `taskexec serve`", () => {
  it("answers 401 on the headers and closes, and times out a slow body of an authenticated caller with 408", async () => {
    const port = await freePort();
    const server = serve(
      serveEnv(tmp.dir, port, {
        TASKEXEC_HTTP__HEADERS_TIMEOUT_MS: "1000",
        TASKEXEC_HTTP__REQUEST_TIMEOUT_MS: "2000",
      }),
    );
    await server.ready;

    const anonymous = await slowPost(port, "", 10_000);

    expect(anonymous.closedAfterMs).toBeLessThan(1500);
    expect(anonymous.answer).toMatch(/^HTTP\/1\.1 401/);
    expect(anonymous.answer).toContain('"code":"unauthenticated"');

    const token = await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" });
    const slow = await slowPost(port, `authorization: Bearer ${token}\r\n`, 10_000);
    expect(slow.closedAfterMs).toBeLessThan(5000);
    expect(slow.answer).toMatch(/^HTTP\/1\.1 408/);
    expect(slow.answer).toContain('"code":"validation_failed"');

    // Headers that never finish are cut off too.
    const started = Date.now();
    const halfHeaders = await new Promise<number>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n");
      });
      sockets.push(socket);
      const timer = setTimeout(() => resolve(Number.POSITIVE_INFINITY), 10_000);
      socket.on("data", () => {});
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      });
    });
    expect(halfHeaders).toBeLessThan(5000);
  });
});
