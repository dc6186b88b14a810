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

/**
 * Opens an SSE request on a raw socket and, once the server has answered 200 (the stream is
 * open and counted), never reads what it sends.
 */
function nonReadingStream(url: string, path: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${token}\r\naccept: text/event-stream\r\n\r\n`,
      );
    });
    socket.once("data", (first: Buffer) => {
      socket.pause();
      const status = first.toString("latin1").split("\r\n", 1)[0];
      if (status === "HTTP/1.1 200 OK") resolve(socket);
      else reject(new Error(`the stream was not opened: ${status}`));
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

  it("tells a live table that reads slower than rows change to reload (resync), not every batch it missed", async () => {
    // Each failed row carries its 20 KB error: 300 of them are more than a paused socket holds.
    const loud = defineHandler({
      type: "loud",
      run: () => {
        throw new Error("x".repeat(20_000));
      },
    });
    h = await startTestService({ handlers: [loud], http: { port: 0, stream_stall_ms: 60_000 } });
    const sockets: Socket[] = [];
    h.service.app.server.on("connection", (s: Socket) => sockets.push(s));
    const token = await h.token("alice", ["submitter"]);
    const reader = await nonReadingStream(h.url, "/v1/stream", token);
    const submit = async (type: string, n: number): Promise<string[]> => {
      const messages = Array.from({ length: n }, () => submitMessage(type, {}, { maxAttempts: 1 }));
      const batch = await h!.call("POST", "/v1/tasks/batch", { token, body: { messages } });
      expect(batch.status).toBe(207);
      const { results } = batch.body as { results: { body: { header: { task_id: string } } }[] };
      return results.map((r) => r.body.header.task_id);
    };
    for (let i = 0; i < 3; i++) await submit("loud", 100);
    // The server wrote rows until the reader's socket was full: the reader is behind.
    await vi.waitFor(() => expect(sockets.some((s) => s.writableNeedDrain)).toBe(true), 10_000);
    // Rows change while it is behind: these are the batches it misses.
    const missed = await submit("noop", 50);
    await vi.waitFor(async () => {
      const { counts } = (await h!.call("GET", "/v1/counts", { token })).body as { counts: object };
      expect(counts).toMatchObject({ failed: 300, completed: 50 });
    }, 10_000);
    // The reader comes back: it takes what was written before it fell behind, then `resync`, and
    // none of the rows that changed meanwhile before it.
    let text = "";
    reader.on("data", (chunk: Buffer) => (text += chunk.toString()));
    reader.resume();
    await vi.waitFor(() => expect(text).toContain("event: resync"), 10_000);
    const beforeResync = text.slice(0, text.indexOf("event: resync"));
    expect(beforeResync).toContain('"state":"failed"');
    for (const id of missed) expect(beforeResync).not.toContain(id);
    // After it, the stream is live again: a new task's row arrives.
    const [id] = await submit("noop", 1);
    await vi.waitFor(
      () => expect(text.slice(text.indexOf("event: resync"))).toContain(`"id":"${id}"`),
      5_000,
    );
    expect(reader.destroyed).toBe(false);
  });

  it("caps streams per principal and in total with 429, and frees a slot when a stream ends", async () => {
    h = await startTestService({ http: { port: 0, max_streams: 5, max_streams_per_principal: 3 } });
    const alice = await h.token("alice", ["submitter"]);
    const bob = await h.token("bob", ["submitter"]);
    const held: Socket[] = [];
    for (let i = 0; i < 3; i++) held.push(await nonReadingStream(h.url, "/v1/stream", alice));
    const fourth = await open("/v1/stream", alice);
    expect(fourth.status).toBe(429);
    for (let i = 0; i < 2; i++) held.push(await nonReadingStream(h.url, "/v1/stream", bob));
    expect((await open("/v1/stream", bob)).status).toBe(429); // the sixth stream in all
    held[0]!.destroy();
    // Refused while the server has not yet seen the client go (nothing opened), then opened.
    await vi.waitFor(async () => expect((await open("/v1/stream", bob)).status).toBe(200));
  });

  it("opens many streams without a MaxListenersExceededWarning", async () => {
    h = await startTestService();
    const token = await h.token("alice", ["submitter"]);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      for (let i = 0; i < 15; i++) await nonReadingStream(h.url, "/v1/stream", token);
      // A warning is emitted on a later tick than the listener that caused it.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });
});
