import type { ServerResponse } from "node:http";
import type { FastifyReply, FastifyRequest } from "fastify";
import { TaskexecError } from "../protocol/errors.js";
import type { TaskStatus } from "../protocol/task-status.js";

export interface EventStreamLimits {
  /** A comment line this often, so that proxies keep the stream open. */
  keepaliveMs: number;
  /** Open streams at once, all principals together; beyond, 429. */
  maxStreams: number;
  /** Open streams of one principal; beyond, 429. */
  maxStreamsPerPrincipal: number;
  /** Bytes written and not yet taken by the client; past this the client is dropped. */
  maxBufferedBytes: number;
  /** How long a stream may stay unable to take more before the client is dropped. */
  stallMs: number;
}

/** An open Server-Sent Events response. */
export interface EventStream {
  /** Aborts when the client goes, is dropped, or the server closes. */
  signal: AbortSignal;
  /**
   * Writes one event. False when the client has not taken what was written before (the socket's
   * buffer is full): write more only after {@link drained}.
   */
  send(event: string, data: unknown, id?: number | string): boolean;
  /** Writes an event framed by {@link sseFrame}: one frame may be written to many streams. */
  sendFrame(frame: Buffer): boolean;
  /** Resolves once the client has taken what was written, or the stream ended. */
  drained(): Promise<void>;
  end(): void;
}

/**
 * Every open event stream of the server, bounded (docs/SECURITY.md): at most `maxStreams` at
 * once and `maxStreamsPerPrincipal` per principal (beyond: 429 `rate_limited`). A stream holds at
 * most `maxBufferedBytes` plus one event that its client has not read: writers wait for the client
 * (statuses) or coalesce (the live table), and a client that takes nothing for `stallMs` while
 * data waits is dropped (its stream ends; a status stream resumes without loss from
 * `Last-Event-ID`). One listener on the server's `closing` signal ends them all.
 */
export class EventStreams {
  readonly #open = new Set<OpenStream>();
  readonly #perPrincipal = new Map<string, number>();

  constructor(
    private readonly limits: EventStreamLimits,
    closing: AbortSignal,
  ) {
    closing.addEventListener("abort", () => {
      for (const stream of [...this.#open]) stream.end();
    });
  }

  get size(): number {
    return this.#open.size;
  }

  /** Opens a stream for `principal`; throws `rate_limited` (429) past the caps, before any byte is sent. */
  open(request: FastifyRequest, reply: FastifyReply, principal: string): EventStream {
    const mine = this.#perPrincipal.get(principal) ?? 0;
    if (mine >= this.limits.maxStreamsPerPrincipal) {
      throw new TaskexecError(
        "rate_limited",
        `at most ${this.limits.maxStreamsPerPrincipal} open streams per principal (http.max_streams_per_principal); close one first`,
      );
    }
    if (this.#open.size >= this.limits.maxStreams) {
      throw new TaskexecError(
        "rate_limited",
        `the server has ${this.limits.maxStreams} open streams (http.max_streams); retry later`,
      );
    }
    this.#perPrincipal.set(principal, mine + 1);
    const stream = new OpenStream(request, reply, this.limits, () => {
      this.#open.delete(stream);
      const n = (this.#perPrincipal.get(principal) ?? 1) - 1;
      if (n > 0) this.#perPrincipal.set(principal, n);
      else this.#perPrincipal.delete(principal);
    });
    this.#open.add(stream);
    return stream;
  }
}

class OpenStream implements EventStream {
  readonly #controller = new AbortController();
  readonly #raw: ServerResponse;
  readonly #request: FastifyRequest;
  readonly #limits: EventStreamLimits;
  readonly #onEnd: () => void;
  readonly #keepalive: NodeJS.Timeout;
  #stall: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(request: FastifyRequest, reply: FastifyReply, limits: EventStreamLimits, onEnd: () => void) {
    this.#request = request;
    this.#limits = limits;
    this.#onEnd = onEnd;
    request.raw.on("close", this.#stop);
    reply.hijack();
    this.#raw = reply.raw;
    this.#raw.on("drain", this.#onDrain);
    this.#raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-content-type-options": "nosniff",
    });
    this.#write("retry: 1000\n\n");
    this.#keepalive = setInterval(() => {
      // A client that has not taken the last write needs no comment to keep it open.
      if (!this.#raw.writableNeedDrain) this.#write(": keep-alive\n\n");
    }, limits.keepaliveMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  send(event: string, data: unknown, id?: number | string): boolean {
    return this.#write(sseText(event, JSON.stringify(data), id));
  }

  sendFrame(frame: Buffer): boolean {
    return this.#write(frame);
  }

  drained(): Promise<void> {
    if (this.#ended || !this.#raw.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#raw.off("drain", done);
        this.#controller.signal.removeEventListener("abort", done);
        resolve();
      };
      this.#raw.on("drain", done);
      this.#controller.signal.addEventListener("abort", done, { once: true });
    });
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearInterval(this.#keepalive);
    clearTimeout(this.#stall);
    this.#request.raw.off("close", this.#stop);
    this.#raw.off("drain", this.#onDrain);
    this.#controller.abort();
    this.#raw.end();
    if (this.#raw.writableLength > 0) {
      // Ended with data the client has not taken (a last status it does not read): it gets
      // the same time as a live stream to take it, and not forever.
      const timer = setTimeout(() => this.#raw.destroy(), this.#limits.stallMs).unref();
      this.#raw.once("finish", () => clearTimeout(timer));
    }
    this.#onEnd();
  }

  #write(text: string | Buffer): boolean {
    if (this.#ended) return false;
    // Judged before the write, so that one event larger than the bound (a big result) still
    // reaches a client that reads; a client that does not is dropped at the stall timeout.
    if (this.#raw.writableLength > this.#limits.maxBufferedBytes) {
      this.#drop();
      return false;
    }
    if (this.#raw.write(text)) return true;
    this.#stall ??= setTimeout(() => this.#drop(), this.#limits.stallMs);
    return false;
  }

  /** The client reads too slowly: end its stream and free what it held. */
  #drop(): void {
    this.end();
    this.#raw.destroy();
  }

  readonly #onDrain = () => {
    clearTimeout(this.#stall);
    this.#stall = undefined;
  };

  readonly #stop = () => this.end();
}

const sseText = (event: string, json: string, id?: number | string): string =>
  `${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`;

/**
 * One Server-Sent Event, encoded once: the live table writes the same batch to every dashboard
 * that watches it, and a copy per stream was most of what a thousand of them cost.
 */
export function sseFrame(event: string, json: string, id?: number | string): Buffer {
  return Buffer.from(sseText(event, json, id));
}

/**
 * Streams statuses as Server-Sent Events: `id` is the sequence (so `Last-Event-ID` resumes),
 * `event: task_status`, one JSON message per event, written no faster than the client reads.
 * Ends after the last status, or when the client goes.
 */
export async function streamStatuses(
  stream: EventStream,
  statuses: (signal: AbortSignal) => AsyncIterable<TaskStatus>,
): Promise<void> {
  try {
    for await (const status of statuses(stream.signal)) {
      if (!stream.send("task_status", status, status.header.sequence)) await stream.drained();
      if (stream.signal.aborted) break;
    }
  } finally {
    stream.end();
  }
}
