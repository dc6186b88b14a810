import type { Principal, TaskExecutor } from "../engine/task-executor.js";
import { toSnapshot } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import type { TaskStatus } from "../protocol/task-status.js";
import type { ClientEncryption } from "./client-encryption.js";
import { toSubmitMessage } from "./submit-message.js";
import type {
  SubmitManyResult,
  SubmitRequest,
  SubmittedTask,
  TaskClientApi,
  TaskFilter,
  TaskPage,
} from "./task-client.js";

/** The in-process client of an embedded executor: the same calls as over HTTP, no network. */
export class LocalTaskClient implements TaskClientApi {
  readonly #encryption: ClientEncryption | undefined;

  constructor(
    private readonly executor: TaskExecutor,
    private readonly principal: Principal,
    /** Message-level encryption, as the client was asked for it (see ClientEncryptionOptions). */
    encryption?: ClientEncryption,
  ) {
    this.#encryption = encryption?.active ? encryption : undefined;
  }

  async submit(request: SubmitRequest): Promise<SubmittedTask> {
    let message = toSubmitMessage(request);
    if (this.#encryption !== undefined) message = await this.#encryption.seal(message);
    const outcome = await this.executor.submit(this.principal, message);
    if (outcome.kind === "rejected") throw outcome.error;
    return { id: outcome.task.id, status: outcome.status, duplicate: outcome.kind === "duplicate" };
  }

  async submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]> {
    const now = new Date();
    let messages = requests.map((r) => toSubmitMessage(r, now));
    const encryption = this.#encryption;
    if (encryption !== undefined) messages = await Promise.all(messages.map((m) => encryption.seal(m)));
    const outcomes = await this.executor.submitMany(this.principal, messages);
    return outcomes.map((o): SubmitManyResult => {
      if ("task" in o)
        return { ok: true, id: o.task.id, status: o.status, duplicate: o.kind === "duplicate" };
      const status: TaskStatus | null = "status" in o ? o.status : null;
      return {
        ok: false,
        id: null,
        status,
        error: {
          code: o.error.code,
          message: o.error.message,
          issues: "issues" in o.error ? o.error.issues : undefined,
        },
      };
    });
  }

  async get(id: string) {
    const snapshot = toSnapshot(await this.executor.getTask(this.principal, id));
    return this.#encryption === undefined ? snapshot : this.#encryption.openSnapshot(snapshot);
  }

  watch(
    id: string,
    options: { afterSequence?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<TaskStatus> {
    const statuses = this.executor.watch(this.principal, id, options.afterSequence ?? 0, options.signal);
    return this.#encryption === undefined ? statuses : this.#encryption.openAll(statuses);
  }

  async cancel(id: string, reason?: string): Promise<TaskStatus> {
    const { status } = await this.executor.cancel(this.principal, id, reason);
    return this.#encryption === undefined ? status : this.#encryption.openStatus(status);
  }

  types(): Promise<HandlerTypeInfo[]> {
    return Promise.resolve([...this.executor.describeTypes()]);
  }

  list(filter: TaskFilter = {}): Promise<TaskPage> {
    return this.executor.listTasks(this.principal, filter);
  }
}
