import type { FastifyReply, FastifyRequest } from "fastify";
import type { TaskStatus } from "../protocol/task-status.js";

/**
 * Streams statuses as Server-Sent Events: `id` is the sequence (so `Last-Event-ID` resumes),
 * `event: task_status`, one JSON message per event, and a comment every `keepaliveMs` so that
 * proxies keep the stream open. Ends after the last status, or when the client goes.
 */
export async function streamStatuses(
  request: FastifyRequest,
  reply: FastifyReply,
  statuses: (signal: AbortSignal) => AsyncIterable<TaskStatus>,
  options: { keepaliveMs: number; closing: AbortSignal },
): Promise<void> {
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
  try {
    for await (const status of statuses(controller.signal)) {
      raw.write(`id: ${status.header.sequence}\nevent: task_status\ndata: ${JSON.stringify(status)}\n\n`);
    }
  } finally {
    clearInterval(keepalive);
    request.raw.off("close", stop);
    options.closing.removeEventListener("abort", stop);
    raw.end();
  }
}
