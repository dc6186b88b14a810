import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { defineHandler } from "../../../src/handlers/handler.js";
import { type ServiceHarness, startTestService, submitMessage } from "../../helpers/service.js";

// Hole 3 of the hardening issue: SSE streams wrote without looking at back-pressure (1,500 streams
// that never read took the server from 199 MB to 4.0 GB), were not capped, and each added a
// listener to one shared signal (MaxListenersExceededWarning after 11).
let h: ServiceHarness | undefined;
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await h?.cleanup();
  h = undefined;
});

const big = defineHandler({ type: "big", run: () => ({ blob: "x".repeat(10_000_000) }) });

/** Opens an SSE request on a raw socket that never reads what the server sends. */
function nonReadingStream(url: string, path: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${token}\r\naccept: text/event-stream\r\n\r\n`,
      );
      socket.pause();
      resolve(socket);
    });
    socket.on("error", () => {}); // the server may reset a client it drops
    socket.once("error", reject);
    clients.push(socket);
  });
}

async function open(path: string, token: string): Promise<{ status: number }> {
  const controller = new AbortController();
  const response = await fetch(`${h!.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    signal: controller.signal,
  });
  if (response.status !== 200) await response.text();
  return { status: response.status };
}

describe("live streams against clients that never read", () => {
  it("drops a client that takes nothing for stream_stall_ms, freeing what its stream held", async () => {
    h = await startTestService({
      handlers: [big],
      http: { port: 0, stream_buffer_bytes: 64 * 1024, stream_stall_ms: 500, max_streams_per_principal: 100 },
    });
    const sockets: Socket[] = [];
    h.service.app.server.on("connection", (s: Socket) => sockets.push(s));
    const token = await h.token("mallory", ["submitter"]);
    const accepted = await h.call("POST", "/v1/tasks", { token, body: submitMessage("big") });
    const id = (accepted.body as { header: { task_id: string } }).header.task_id;
    const streams = 10;
    for (let i = 0; i < streams; i++) await nonReadingStream(h.url, `/v1/tasks/${id}/events`, token);
    // Each stream owes its client the 10 MB result (100 MB in all, kept for ever before the fix);
    // each client that takes none of it is dropped 500 ms after its stream stalled.
    const buffered = () => sockets.reduce((sum, s) => sum + (s.destroyed ? 0 : s.writableLength), 0);
    // The server did write to them (more than a stream may hold: each is owed 10 MB)...
    let peak = 0;
    await vi.waitFor(
      () => {
        peak = Math.max(peak, buffered());
        expect(peak).toBeGreaterThan(64 * 1024);
      },
      { interval: 10 },
    );
    // ...and then dropped every one of the ten, holding nothing for them any more.
    await vi.waitFor(() => {
      expect(sockets.filter((s) => s.destroyed).length).toBeGreaterThanOrEqual(streams);
      expect(buffered()).toBe(0);
    }, 10_000);
    expect((await h.call("GET", "/healthz")).status).toBe(200);
    // A client that reads still gets an event larger than the bound, whole.
    const response = await fetch(`${h.url}/v1/tasks/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    });
    const text = await response.text();
    expect(text).toContain('"status":"completed"');
    expect(text.length).toBeGreaterThan(10_000_000);
  });

  it("caps streams per principal and in total with 429, and frees a slot when a stream ends", async () => {
    h = await startTestService({ http: { port: 0, max_streams: 5, max_streams_per_principal: 3 } });
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) held.push(await nonReadingStream(h.url, "/v1/stream", alice));
    await new Promise((r) => setTimeout(r, 200));
    const fourth = await open("/v1/stream", alice);
    expect(fourth.status).toBe(429);
    for (let i = 0; i < 2; i++) held.push(await nonReadingStream(h.url, "/v1/stream", bob));
    await new Promise((r) => setTimeout(r, 200));
    expect((await open("/v1/stream", bob)).status).toBe(429); // the sixth stream in all
    held[0]!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await open("/v1/stream", bob)).status).toBe(200);
  });

  it("opens many streams without a MaxListenersExceededWarning", async () => {
    h = await startTestService();
    const token = await h.token("alice", ["submitter"]);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 15; i++) await nonReadingStream(h.url, "/v1/stream", token);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });
});
