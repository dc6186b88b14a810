import type { JSONWebKeySet } from "jose";
import type { TaskSnapshot, TaskSummary } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import { isErrorCode } from "../protocol/error-codes.js";
import { TaskexecError, TaskRejectedError } from "../protocol/errors.js";
import type { ValidationIssue } from "../protocol/issues.js";
import { isTerminal } from "../protocol/states.js";
import type { TaskStatus } from "../protocol/task-status.js";
import { ClientEncryption, type ClientEncryptionOptions } from "./client-encryption.js";
import { HttpConnections } from "./http-connections.js";
import { readServerSentEvents } from "./sse-reader.js";
import { toSubmitMessage } from "./submit-message.js";
import type {
  SubmitManyResult,
  SubmitRequest,
  SubmittedTask,
  TaskClientApi,
  TaskFilter,
  TaskPage,
} from "./task-client.js";

export interface HttpTaskClientOptions extends ClientEncryptionOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A JWT (`taskexec token` mints one). */
  token?: string | undefined;
  /** How long a broken status stream is retried before `watch` gives up. @default 30000 */
  reconnectForMs?: number;
  /**
   * Connections kept open to the server (status streams not counted); calls beyond them wait
   * for one to be free. @default 16
   */
  maxConnections?: number;
}

/** An error answer from the server: its protocol code, HTTP status and details. */
export class TaskexecHttpError extends TaskexecError {
  override name = "TaskexecHttpError";
  constructor(
    code: TaskexecError["code"],
    message: string,
    readonly status: number,
    readonly details: unknown,
  ) {
    super(code, message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: { errors?: ValidationIssue[] } };
}

/** The client of a taskexec server over HTTP: the same calls as `executor.client()`. */
export class HttpTaskClient implements TaskClientApi {
  readonly #url: string;
  readonly #token: string | undefined;
  readonly #reconnectForMs: number;
  readonly #connections: HttpConnections;
  /** Message-level encryption, when asked for (undefined: none, and no cost). */
  readonly #encryption: ClientEncryption | undefined;

  constructor(options: HttpTaskClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#token = options.token;
    this.#reconnectForMs = options.reconnectForMs ?? 30_000;
    this.#connections = new HttpConnections(this.#url, options.maxConnections ?? 16);
    const encryption = new ClientEncryption(async () => (await this.keys()).keys, options);
    this.#encryption = encryption.active ? encryption : undefined;
  }

  async submit(request: SubmitRequest): Promise<SubmittedTask> {
    let message = toSubmitMessage(request);
    if (this.#encryption !== undefined) message = await this.#encryption.seal(message);
    const { status, body } = await this.#call("POST", "/v1/tasks", message, [200, 202, 422]);
    if (status === 422) throw rejection(body as ErrorBody);
    const answer = body as TaskStatus;
    return { id: answer.header.task_id!, status: answer, duplicate: status === 200 };
  }

  async submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]> {
    const now = new Date();
    let messages = requests.map((r) => toSubmitMessage(r, now));
    const encryption = this.#encryption;
    if (encryption !== undefined) messages = await Promise.all(messages.map((m) => encryption.seal(m)));
    const { body } = await this.#call("POST", "/v1/tasks/batch", { messages });
    return (body as { results: { status: number; body: unknown }[] }).results.map((r): SubmitManyResult => {
      if (r.status === 200 || r.status === 202) {
        const message = r.body as TaskStatus;
        return { ok: true, id: message.header.task_id!, status: message, duplicate: r.status === 200 };
      }
      const error = (r.body as ErrorBody).error ?? {};
      const details = error.details as { status?: TaskStatus; errors?: unknown } | undefined;
      return {
        ok: false,
        id: null,
        status: details?.status ?? null,
        error: {
          code: error.code ?? "internal_error",
          message: error.message ?? `HTTP ${r.status}`,
          issues: details?.errors,
        },
      };
    });
  }

  async get(id: string): Promise<TaskSnapshot> {
    const snapshot = (await this.#call("GET", `/v1/tasks/${encodeURIComponent(id)}`)).body as TaskSnapshot;
    return this.#encryption === undefined ? snapshot : this.#encryption.openSnapshot(snapshot);
  }

  async types(): Promise<HandlerTypeInfo[]> {
    return ((await this.#call("GET", "/v1/types")).body as { types: HandlerTypeInfo[] }).types;
  }

  /**
   * The cluster's public keys (`GET /v1/keys`, a JWKS): `use: "sig"` ones check what the api and
   * the workers sign; `use: "enc"` ones (current first) are what submissions are encrypted for.
   */
  async keys(): Promise<JSONWebKeySet> {
    return (await this.#call("GET", "/v1/keys")).body as JSONWebKeySet;
  }

  async cancel(id: string, reason?: string): Promise<TaskStatus> {
    const { body } = await this.#call(
      "POST",
      `/v1/tasks/${encodeURIComponent(id)}/cancel`,
      reason === undefined ? {} : { reason },
    );
    const { status } = body as { status: TaskStatus };
    return this.#encryption === undefined ? status : this.#encryption.openStatus(status);
  }

  async list(filter: TaskFilter = {}): Promise<TaskPage> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
    const { body } = await this.#call("GET", `/v1/tasks?${query.toString()}`);
    const page = body as { tasks: TaskSummary[]; next_cursor: string | null };
    return { tasks: page.tasks, nextCursor: page.next_cursor };
  }

  /** Statuses over SSE; a dropped stream is resumed with `Last-Event-ID`, so none is lost or repeated. */
  watch(
    id: string,
    options: { afterSequence?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<TaskStatus> {
    const statuses = this.#statuses(id, options);
    return this.#encryption === undefined ? statuses : this.#encryption.openAll(statuses);
  }

  async *#statuses(
    id: string,
    options: { afterSequence?: number; signal?: AbortSignal },
  ): AsyncGenerator<TaskStatus> {
    let last = options.afterSequence ?? 0;
    let failingSince: number | undefined;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(`${this.#url}/v1/tasks/${encodeURIComponent(id)}/events`, {
          headers: { ...this.#auth(), accept: "text/event-stream", "last-event-id": String(last) },
          signal: options.signal ?? null,
        });
      } catch (error) {
        if (options.signal?.aborted) return;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > this.#reconnectForMs) throw unreachable(this.#url, error);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!response.ok) throw httpError(response.status, await response.json().catch(() => undefined));
      try {
        for await (const event of readServerSentEvents(response.body!)) {
          failingSince = undefined;
          if (event.event !== "task_status") continue;
          const status = JSON.parse(event.data) as TaskStatus;
          if (status.header.sequence <= last) continue;
          last = status.header.sequence;
          yield status;
          if (isTerminal(status.body.status)) return;
        }
      } catch (error) {
        if (options.signal?.aborted) return;
        failingSince ??= Date.now();
        if (Date.now() - failingSince > this.#reconnectForMs) throw unreachable(this.#url, error);
      }
      if (options.signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Closes its kept-alive connections (idle ones never keep the process alive anyway). */
  close(): Promise<void> {
    this.#connections.close();
    return Promise.resolve();
  }

  #auth(): Record<string, string> {
    return this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` };
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    accept: number[] = [200],
  ): Promise<{ status: number; body: unknown }> {
    let answer: { status: number; text: string };
    let parsed: unknown;
    // A server whose store is away answers 503 `unavailable` having done nothing: the same
    // request is tried again a few times (submissions are idempotent by message id).
    for (let attempt = 1; ; attempt++) {
      try {
        answer = await this.#connections.send(
          method,
          path,
          { ...this.#auth(), ...(body !== undefined && { "content-type": "application/json" }) },
          body === undefined ? undefined : JSON.stringify(body),
        );
      } catch (error) {
        throw unreachable(this.#url, error);
      }
      parsed = parseBody(answer.text);
      const unavailable =
        answer.status === 503 && (parsed as ErrorBody | undefined)?.error?.code === "unavailable";
      if (!unavailable || attempt >= UNAVAILABLE_ATTEMPTS) break;
      await new Promise((r) => setTimeout(r, Math.min(4_000, 250 * 2 ** (attempt - 1))));
    }
    if (!accept.includes(answer.status) && !(answer.status === 207 && path.endsWith("/batch"))) {
      throw httpError(answer.status, parsed);
    }
    if (parsed === undefined) {
      // Not taskexec answering (a proxy in between?): say so rather than fail on a missing field.
      const message = `${this.#url} answered HTTP ${answer.status} with a body that is not JSON`;
      throw new TaskexecHttpError("resource_unavailable", message, answer.status, undefined);
    }
    return { status: answer.status, body: parsed };
  }
}

/** Tries of one request while the server answers `unavailable` (about 8 s in all). */
const UNAVAILABLE_ATTEMPTS = 6;

function rejection(body: ErrorBody): TaskRejectedError {
  const code = body.error?.code;
  return new TaskRejectedError(
    isErrorCode(code) ? code : "validation_failed",
    body.error?.details?.errors ?? [],
  );
}

function httpError(status: number, answer: unknown): TaskexecHttpError {
  const body = (answer ?? {}) as ErrorBody;
  const code = body.error?.code;
  return new TaskexecHttpError(
    isErrorCode(code) ? code : "internal_error",
    body.error?.message ?? `HTTP ${status}`,
    status,
    body.error?.details,
  );
}

/** A body as JSON; one that is not (a proxy's error page) as undefined. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unreachable(url: string, error: unknown): TaskexecError {
  return new TaskexecError(
    "resource_unavailable",
    `cannot reach taskexec at ${url} (${networkReason(error)})`,
    {
      cause: error,
    },
  );
}

/** The system error code (ECONNREFUSED, ENOTFOUND, …) buried in fetch's cause chain. */
function networkReason(error: unknown): string {
  let current: unknown = error;
  let deepest = error instanceof Error ? error.message : String(error);
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const e = current as { code?: unknown; cause?: unknown; errors?: unknown[]; message?: unknown };
    if (typeof e.code === "string") return e.code;
    if (typeof e.message === "string" && e.message !== "") deepest = e.message;
    current = e.cause ?? e.errors?.[0];
  }
  return deepest;
}
