import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { TaskClient } from "../../src/client/url-task-client.js";
import { signToken } from "../../src/security/token-signer.js";
import { freePort, killServes, serve, serveEnv } from "../helpers/serve.js";
import { TEST_SECRET } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

/**
 * The hardening issue's soak: 1,000 SSE clients that never read and 1,000 sockets sending a body
 * one byte at a time hold on to `taskexec serve` for SOAK_SECONDS (30 by default) while another
 * client keeps submitting. The server's RSS stays under RSS_BOUND_MB (docs/SECURITY.md) and
 * /healthz answers within a second throughout.
 */
const SOAK_MS = Number(process.env.SOAK_SECONDS ?? 30) * 1000;
const RSS_BOUND_MB = 300;
const STREAMS = Number(process.env.SOAK_STREAMS ?? 1000);
const SLOW_BODIES = Number(process.env.SOAK_SLOW ?? 1000);

const tmp = tempDir();
const sockets = new Set<Socket>();
afterAll(() => {
  for (const s of sockets) s.destroy();
  killServes();
  tmp.remove();
});

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

function rawSocket(port: number, request: string, onClose: () => void): Socket {
  const socket = connect({ host: "127.0.0.1", port }, () => socket.write(request));
  sockets.add(socket);
  socket.on("error", () => {});
  socket.on("close", () => {
    sockets.delete(socket);
    onClose();
  });
  return socket;
}

describe("soak: hostile clients against `taskexec serve`", () => {
  it(
    `keeps RSS under ${RSS_BOUND_MB} MB and /healthz within 1 s`,
    async () => {
      const port = await freePort();
      const server = serve(
        // The submitter here is not the one under test: no rate limit in its way.
        serveEnv(tmp.dir, port, { TASKEXEC_LIMITS__SUBMIT_PER_MINUTE: "100000" }),
      );
      await server.ready;
      const pid = server.child.pid!;
      const startRss = rssMb(pid);
      const until = Date.now() + SOAK_MS;
      // Admins, 20 streams each (the per-principal cap): every submission reaches every stream.
      const admins = await Promise.all(
        Array.from({ length: STREAMS / 20 }, (_, i) =>
          signToken(TEST_SECRET, { sub: `watcher-${i}`, roles: ["admin"], ttl: "1h" }),
        ),
      );
      const slowToken = await signToken(TEST_SECRET, { sub: "slowpoke", roles: ["submitter"], ttl: "1h" });
      const openStream = (i: number) => {
        const socket = rawSocket(
          port,
          `GET /v1/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${admins[i % admins.length]}\r\naccept: text/event-stream\r\n\r\n`,
          () => {
            if (Date.now() < until) setTimeout(() => openStream(i), 100); // dropped: come back
          },
        );
        socket.pause(); // never reads
      };
      const openSlowBody = () => {
        rawSocket(
          port,
          `POST /v1/tasks HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${slowToken}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`,
          () => {
            if (Date.now() < until) setTimeout(openSlowBody, 100); // timed out: come back
          },
        );
      };
      for (let i = 0; i < STREAMS; i++) openStream(i);
      for (let i = 0; i < SLOW_BODIES; i++) openSlowBody();

      const client = new TaskClient({
        url: `http://127.0.0.1:${port}`,
        token: await signToken(TEST_SECRET, { sub: "worker", roles: ["submitter"], ttl: "1h" }),
      });
      let submitted = 0;
      let failedSubmits = 0;
      const submitting = (async () => {
        while (Date.now() < until) {
          const results = await client.submitMany(Array.from({ length: 20 }, () => ({ type: "noop" })));
          submitted += results.filter((r) => r.ok).length;
          failedSubmits += results.filter((r) => !r.ok).length;
          await new Promise((r) => setTimeout(r, 50));
        }
      })();

      let worstHealthMs = 0;
      let peakRss = 0;
      while (Date.now() < until) {
        const started = Date.now();
        const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000) });
        expect(health.status).toBe(200);
        worstHealthMs = Math.max(worstHealthMs, Date.now() - started);
        peakRss = Math.max(peakRss, rssMb(pid));
        await new Promise((r) => setTimeout(r, 250));
      }
      await submitting;
      console.log(
        `soak ${SOAK_MS / 1000} s: RSS ${startRss.toFixed(0)} → peak ${peakRss.toFixed(0)} MB, ` +
          `worst /healthz ${worstHealthMs} ms, ${submitted} submitted (${failedSubmits} refused), ${sockets.size} hostile sockets at the end`,
      );
      expect(peakRss).toBeLessThan(RSS_BOUND_MB);
      expect(worstHealthMs).toBeLessThan(1000);
      expect(failedSubmits).toBe(0);
      expect(submitted).toBeGreaterThan(0);
    },
    SOAK_MS + 60_000,
  );
});
