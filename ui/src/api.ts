// What the dashboard reads from and sends to the API (the same routes any client uses).

// The shapes are the server's own (type-only imports) and the state list is the protocol's
// (states.ts imports nothing, so only it is bundled): the page cannot drift from the API.
import type { TaskSnapshot, TaskSummary } from "../../src/engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../../src/handlers/registry.js";
import type { ActivityPoint } from "../../src/observability/recent-activity.js";
import type { TaskState } from "../../src/protocol/states.js";
import type { TaskStatus } from "../../src/protocol/task-status.js";

export { TASK_STATES, isTerminal, type TaskState } from "../../src/protocol/states.js";
export type { ActivityPoint, HandlerTypeInfo, TaskSnapshot, TaskStatus };

/** A row of the task table (`GET /v1/tasks`, `GET /v1/stream`). */
export type TaskRow = TaskSummary;

export interface Session {
  principal: string;
  roles: string[];
  may: { submit: boolean; see_all_tasks: boolean; admin: boolean };
  task_types: string[];
  protocol_version: string;
}

export interface NodeResources {
  node: string;
  capacity: Record<string, number>;
  allocated: Record<string, number>;
  free: Record<string, number>;
  running: number;
  waiting: number;
  last_heartbeat: string;
  alive: boolean;
}

export interface AuditEntry {
  id: number;
  at: string;
  principal: string;
  action: string;
  message_id: string | null;
  task_id: string | null;
  decision: string;
  /** The error code of a refusal. */
  code: string | null;
  /** A cancel's reason, or a rejection's first problem. */
  reason: string | null;
  payload: unknown;
}

/** One answer of the batch route: the status code and body a single POST would have had. */
interface BatchResult {
  status: number;
  body: unknown;
}

export interface TaskFilter {
  state?: TaskState | undefined;
  type?: string | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** An error the API answered with (its code and message), or one of reaching it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Calls the API with the session's token. */
export class Api {
  constructor(readonly token: string) {}

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: "application/json",
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, "unreachable", "cannot reach the taskexec server");
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined)
        ?.error;
      throw new ApiError(
        response.status,
        error?.code ?? "http_error",
        error?.message ?? `the server answered ${response.status}`,
        error?.details,
      );
    }
    return parsed as T;
  }

  session = () => this.request<Session>("GET", "/v1/session");
  /** Public: whether the server asks for a token at all. */
  health = () => this.request<{ status: string; auth?: boolean }>("GET", "/healthz");
  counts = () => this.request<{ counts: Partial<Record<TaskState, number>> }>("GET", "/v1/counts");
  task = (id: string) => this.request<TaskSnapshot>("GET", `/v1/tasks/${encodeURIComponent(id)}`);
  cancel = (id: string) =>
    this.request<{ changed: boolean; status: TaskStatus }>(
      "POST",
      `/v1/tasks/${encodeURIComponent(id)}/cancel`,
      {
        reason: "cancelled from the dashboard",
      },
    );
  resources = () => this.request<{ nodes: NodeResources[] }>("GET", "/v1/resources");
  stats = (step: number) =>
    this.request<{ step: number; points: ActivityPoint[]; window: ActivityPoint }>(
      "GET",
      `/v1/stats?step=${step}`,
    );
  types = async () => (await this.request<{ types: HandlerTypeInfo[] }>("GET", "/v1/types")).types;

  /**
   * Submits one message through the batch route: a rejection then arrives inside a 207 rather
   * than as a 422, which the browser would log as a failed request on every form mistake.
   */
  async submit(message: unknown): Promise<TaskStatus> {
    const { results } = await this.request<{ results: BatchResult[] }>("POST", "/v1/tasks/batch", {
      messages: [message],
    });
    const [result] = results;
    if (result !== undefined && (result.status === 200 || result.status === 202))
      return result.body as TaskStatus;
    const error = (
      result?.body as { error?: { code?: string; message?: string; details?: unknown } } | undefined
    )?.error;
    throw new ApiError(
      result?.status ?? 500,
      error?.code ?? "http_error",
      error?.message ?? "rejected",
      error?.details,
    );
  }

  tasks(filter: TaskFilter, signal?: AbortSignal) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined && value !== "") query.set(key, String(value));
    }
    return this.request<{ tasks: TaskRow[]; next_cursor: string | null }>(
      "GET",
      `/v1/tasks?${query}`,
      undefined,
      signal,
    );
  }

  audit(filter: { task_id?: string; principal?: string; before?: number }) {
    const query = new URLSearchParams({ limit: "100" });
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined && value !== "") query.set(key, String(value));
    }
    return this.request<{ entries: AuditEntry[]; next_before: number | null }>("GET", `/v1/audit?${query}`);
  }
}
