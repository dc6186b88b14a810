import type { ClientEncryptionOptions } from "./client-encryption.js";
import type { JSONWebKeySet } from "jose";
import type { TaskSnapshot } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import type { TaskStatus } from "../protocol/task-status.js";
import { AmqpTaskClient } from "./amqp-task-client.js";
import { HttpTaskClient } from "./http-task-client.js";
import type {
  SubmitManyResult,
  SubmitRequest,
  SubmittedTask,
  TaskClientApi,
  TaskFilter,
  TaskPage,
} from "./task-client.js";

export interface TaskClientOptions extends ClientEncryptionOptions {
  /**
   * Where taskexec is: an api's HTTP URL (`http://127.0.0.1:8080`), or, in distributed mode, the
   * broker's (`amqp://user:password@host:5672/vhost`).
   */
  url: string;
  /** A JWT (`taskexec token` mints one). */
  token?: string | undefined;
  /** HTTP: how long a broken status stream is retried before `watch` gives up. @default 30000 */
  reconnectForMs?: number;
  /** HTTP: connections kept open to the server (status streams not counted). @default 16 */
  maxConnections?: number;
  /**
   * AMQP: the api's HTTP URL, for what the broker carries no message for (`get`, `list`, `types`,
   * and the history of a task this client did not submit).
   */
  api?: string | undefined;
  /**
   * AMQP: the cluster's public keys (the JWKS of the api's `/v1/keys`), to check the statuses
   * heard were signed by the api or a worker. Unset: fetched from `api`.
   */
  keys?: JSONWebKeySet | undefined;
  /** AMQP (`amqps://`): the broker's CA (else the system's), and a client certificate and key (PEM). */
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } | undefined;
  /** AMQP: how long a submission or cancel waits for its answer on `taskexec.status`. @default 30000 */
  answerTimeoutMs?: number;
}

/**
 * The client of a taskexec server, the flavour its URL names: HTTP(S) to an api (any mode), or
 * AMQP to the cluster's broker (distributed mode: submissions and cancels as messages, answers
 * and statuses from `taskexec.status`). Both have the calls of `executor.client()`.
 */
export class TaskClient implements TaskClientApi {
  readonly #flavour: HttpTaskClient | AmqpTaskClient;

  constructor(options: TaskClientOptions) {
    this.#flavour = /^amqps?:\/\//i.test(options.url)
      ? new AmqpTaskClient(options)
      : new HttpTaskClient(options);
  }

  /** `http` or `amqp`. */
  get transport(): "http" | "amqp" {
    return this.#flavour instanceof AmqpTaskClient ? "amqp" : "http";
  }

  submit(request: SubmitRequest): Promise<SubmittedTask> {
    return this.#flavour.submit(request);
  }

  submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]> {
    return this.#flavour.submitMany(requests);
  }

  get(id: string): Promise<TaskSnapshot> {
    return this.#flavour.get(id);
  }

  watch(id: string, options?: { afterSequence?: number; signal?: AbortSignal }): AsyncIterable<TaskStatus> {
    return this.#flavour.watch(id, options);
  }

  cancel(id: string, reason?: string): Promise<TaskStatus> {
    return this.#flavour.cancel(id, reason);
  }

  list(filter?: TaskFilter): Promise<TaskPage> {
    return this.#flavour.list(filter);
  }

  types(): Promise<HandlerTypeInfo[]> {
    return this.#flavour.types();
  }

  /** Closes its connections (the broker's, for AMQP: a process that submitted over it can then exit). */
  close(): Promise<void> {
    return this.#flavour.close();
  }
}
