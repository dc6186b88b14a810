import type { CompiledOptions } from "../config/options.js";
import { TaskexecError } from "../protocol/errors.js";
import type { ActiveUsage } from "../store/task-store.js";
import { RateLimiter } from "./rate-limiter.js";

export type Admission = { ok: true } | { ok: false; error: TaskexecError; retryAfterS: number };

export interface GuardDependencies {
  /** The principal's unfinished tasks and their requirements. */
  usage(principal: string): Promise<ActiveUsage>;
  /** Whether the principal already submitted this message id (a duplicate costs no quota). */
  exists(principal: string, messageId: string): Promise<boolean>;
  now?: () => number;
}

/** How long a client over quota is told to wait: quotas free up as tasks finish. */
const QUOTA_RETRY_AFTER_S = 5;

/**
 * Admission before the engine sees a submission: the per-principal rate limit
 * (`limits.submit_per_minute`) and quotas (`limits.max_active_tasks`, `limits.max_resources`).
 * Each message of a batch is judged on its own, counting the ones admitted before it.
 */
export class SubmissionGuard {
  readonly #limits: CompiledOptions["limits"];
  readonly #deps: GuardDependencies;
  readonly #rate: RateLimiter;

  constructor(limits: CompiledOptions["limits"], deps: GuardDependencies) {
    this.#limits = limits;
    this.#deps = deps;
    this.#rate = new RateLimiter(limits.submit_per_minute, deps.now);
  }

  async admit(principal: string, messages: readonly unknown[]): Promise<Admission[]> {
    const quotas = this.#limits.max_active_tasks !== undefined || this.#limits.max_resources !== undefined;
    const usage = quotas ? await this.#deps.usage(principal) : { tasks: 0, resources: {} };
    const out: Admission[] = [];
    for (const message of messages) {
      const waitMs = this.#rate.take(principal);
      if (waitMs > 0) {
        const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
        out.push({
          ok: false,
          retryAfterS,
          error: new TaskexecError(
            "rate_limited",
            `more than ${this.#limits.submit_per_minute} submissions a minute; retry in ${retryAfterS} s`,
          ),
        });
        continue;
      }
      if (quotas) {
        const messageId = messageIdOf(message);
        if (messageId === undefined || !(await this.#deps.exists(principal, messageId))) {
          const refusal = this.#overQuota(usage, requirementsOf(message));
          if (refusal !== undefined) {
            out.push({
              ok: false,
              retryAfterS: QUOTA_RETRY_AFTER_S,
              error: new TaskexecError("quota_exceeded", refusal),
            });
            continue;
          }
        }
      }
      out.push({ ok: true });
    }
    return out;
  }

  /** Counts the request against the usage; returns why it is refused, or undefined (and adds it). */
  #overQuota(usage: ActiveUsage, requested: Record<string, number>): string | undefined {
    const { max_active_tasks: maxTasks, max_resources: maxResources = {} } = this.#limits;
    if (maxTasks !== undefined && usage.tasks + 1 > maxTasks) {
      return `at most ${maxTasks} unfinished tasks per principal (you have ${usage.tasks})`;
    }
    for (const [kind, amount] of Object.entries(requested)) {
      const max = maxResources[kind];
      const used = usage.resources[kind] ?? 0;
      if (max !== undefined && used + amount > max) {
        return `at most ${max} ${kind} across unfinished tasks per principal (in use ${used}, asked ${amount})`;
      }
    }
    usage.tasks += 1;
    for (const [kind, amount] of Object.entries(requested))
      usage.resources[kind] = (usage.resources[kind] ?? 0) + amount;
    return undefined;
  }
}

function messageIdOf(message: unknown): string | undefined {
  const id = (message as { header?: { message_id?: unknown } } | null)?.header?.message_id;
  return typeof id === "string" ? id : undefined;
}

/** The valid-looking amounts of a message's requirements (the validator judges the rest). */
function requirementsOf(message: unknown): Record<string, number> {
  const spec = (message as { body?: { task_specification?: unknown } } | null)?.body?.task_specification;
  const requirements =
    typeof spec === "object" && spec !== null ? (spec as { requirements?: unknown }).requirements : undefined;
  if (typeof requirements !== "object" || requirements === null) return {};
  return Object.fromEntries(
    Object.entries(requirements).filter(
      (e): e is [string, number] => typeof e[1] === "number" && Number.isFinite(e[1]) && e[1] > 0,
    ),
  );
}
