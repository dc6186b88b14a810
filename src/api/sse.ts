import type { FastifyReply, FastifyRequest } from "fastify";
import type { TaskStatus } from "../protocol/task-status.js";

export interface SseOptions {
  keepaliveMs: number;
  /** Aborts when the server closes. */
  closing: AbortSignal;
}

/** An open Server-Sent Events response. */
export interface EventStream {
  /** Aborts when the client goes or the server closes. */
  signal: AbortSignal;
  /** Writes one event; false when the socket's buffer is full (the client reads slower than we write). */
  send(event: string, data: unknown, id?: number | string): boolean;
  end(): void;
}

/**
 * Opens a Server-Sent Events response: the headers, a reconnect delay, and a comment every
 * `keepaliveMs` so that proxies keep the stream open. `end()` must be called once.
 */
export function openEventStream(
  request: FastifyRequest,
  reply: FastifyReply,
  options: SseOptions,
): EventStream {
  const controller = new AbortController();
  const stop = () => controller.abort();
  request.raw.on("close", stop);
  options.closing.addEventListener("abort", stop);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  raw.write("retry: 1000\n\n");
  const keepalive = setInterval(() => raw.write(": keep-alive\n\n"), options.keepaliveMs);
  return {
    signal: controller.signal,
    send: (event, data, id) =>
      raw.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
    end: () => {
      clearInterval(keepalive);
      request.raw.off("close", stop);
      options.closing.removeEventListener("abort", stop);
      raw.end();
    },
  };
}

/**
 * Streams statuses as Server-Sent Events: `id` is the sequence (so `Last-Event-ID` resumes),
 * `event: task_status`, one JSON message per event. Ends after the last status, or when the client goes.
 */
export async function streamStatuses(
  request: FastifyRequest,
  reply: FastifyReply,
  statuses: (signal: AbortSignal) => AsyncIterable<TaskStatus>,
  options: SseOptions,
): Promise<void> {
  const stream = openEventStream(request, reply, options);
  try {
    for await (const status of statuses(stream.signal)) {
      stream.send("task_status", status, status.header.sequence);
    }
  } finally {
    stream.end();
  }
}
