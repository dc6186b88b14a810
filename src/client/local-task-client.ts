import type { Principal, TaskExecutor } from "../engine/task-executor.js";
import { toSnapshot } from "../engine/task-snapshot.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import type { TaskStatus } from "../protocol/task-status.js";
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
  constructor(
    private readonly executor: TaskExecutor,
    private readonly principal: Principal,
  ) {}

  async submit(request: SubmitRequest): Promise<SubmittedTask> {
    const outcome = await this.executor.submit(this.principal, toSubmitMessage(request));
    if (outcome.kind === "rejected") throw outcome.error;
    return { id: outcome.task.id, status: outcome.status, duplicate: outcome.kind === "duplicate" };
  }

  async submitMany(requests: readonly SubmitRequest[]): Promise<SubmitManyResult[]> {
    const now = new Date();
    const outcomes = await this.executor.submitMany(
      this.principal,
      requests.map((r) => toSubmitMessage(r, now)),
    );
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
    return toSnapshot(await this.executor.getTask(this.principal, id));
  }

  watch(
    id: string,
    options: { afterSequence?: number; signal?: AbortSignal } = {},
  ): AsyncIterable<TaskStatus> {
    return this.executor.watch(this.principal, id, options.afterSequence ?? 0, options.signal);
  }

  async cancel(id: string, reason?: string): Promise<TaskStatus> {
    return (await this.executor.cancel(this.principal, id, reason)).status;
  }

  types(): Promise<HandlerTypeInfo[]> {
    return Promise.resolve([...this.executor.describeTypes()]);
  }

  list(filter: TaskFilter = {}): Promise<TaskPage> {
    return this.executor.listTasks(this.principal, filter);
  }
}
