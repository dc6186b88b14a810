import type { ErrorCode } from "../../protocol/error-codes.js";
import { TaskexecError } from "../../protocol/errors.js";
import type { BrokerPermissions } from "./broker-permissions.js";

/** What the management API's refusals say in our words. */
const MANAGEMENT_ERRORS: Record<number, ErrorCode> = {
  400: "validation_failed",
  401: "unauthenticated",
  403: "forbidden",
  404: "not_found",
};

/**
 * RabbitMQ's management HTTP API, as an administrator uses it to give a principal its broker user
 * and permissions (`taskexec broker grant`). The URL carries the administrator's credentials:
 * `http://admin:secret@mq-host:15672`.
 */
export class BrokerAdmin {
  readonly #base: string;
  readonly #authorization: string;

  constructor(managementUrl: string) {
    if (!URL.canParse(managementUrl) || !/^https?:$/.test(new URL(managementUrl).protocol))
      throw new TypeError(
        `the management URL must be http(s)://user:password@host:15672, got ${managementUrl}`,
      );
    const url = new URL(managementUrl);
    const user = decodeURIComponent(url.username || "guest");
    const password = decodeURIComponent(url.password || "guest");
    this.#authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    url.username = url.password = "";
    this.#base = url.toString().replace(/\/+$/, "");
  }

  /**
   * Makes `user` hold exactly `permissions` in `vhost` (its vhost and topic permissions
   * replaced). Its password becomes `password` when given; a new user without one gets
   * `newPassword()`. Resolves to the password set, or undefined when the user kept its own.
   */
  async grant(
    vhost: string,
    user: string,
    password: string | undefined,
    permissions: BrokerPermissions,
    newPassword: () => string,
  ): Promise<string | undefined> {
    const v = encodeURIComponent(vhost);
    const u = encodeURIComponent(user);
    const existing = await this.#call("GET", `/api/users/${u}`, undefined, [200, 404]);
    const set = password ?? (existing.status === 404 ? newPassword() : undefined);
    if (set !== undefined) await this.#call("PUT", `/api/users/${u}`, { password: set, tags: "" });
    const { configure, write, read } = permissions;
    await this.#call("PUT", `/api/permissions/${v}/${u}`, { configure, write, read });
    await this.#call("DELETE", `/api/topic-permissions/${v}/${u}`, undefined, [204, 404]);
    for (const topic of permissions.topics)
      await this.#call("PUT", `/api/topic-permissions/${v}/${u}`, topic);
    return set;
  }

  async #call(
    method: string,
    path: string,
    body?: unknown,
    expect: number[] = [200, 201, 204],
  ): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers: { authorization: this.#authorization, "content-type": "application/json" },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new TaskexecError(
        "resource_unavailable",
        `cannot reach RabbitMQ's management API at ${this.#base} (${(error as Error).message}): is the rabbitmq_management plugin on?`,
        { cause: error },
      );
    }
    const text = await response.text();
    if (!expect.includes(response.status)) {
      const reason = text.length > 0 ? text.slice(0, 500) : response.statusText;
      const code = MANAGEMENT_ERRORS[response.status] ?? "unavailable";
      throw new TaskexecError(code, `${method} ${path} answered ${response.status}: ${reason}`);
    }
    return { status: response.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : undefined };
  }
}

/** The management API beside a broker URL: the same host and credentials, port 15672 (15671 for amqps). */
export function managementUrlOf(brokerUrl: string): string {
  const broker = new URL(brokerUrl);
  const tls = broker.protocol === "amqps:";
  const url = new URL(`${tls ? "https" : "http"}://${broker.hostname}:${tls ? 15671 : 15672}`);
  url.username = broker.username;
  url.password = broker.password;
  return url.toString();
}

/** The vhost a broker URL names (its path; none is `/`). */
export function vhostOf(brokerUrl: string): string {
  const path = new URL(brokerUrl).pathname;
  return path === "" || path === "/" ? "/" : decodeURIComponent(path.slice(1));
}
