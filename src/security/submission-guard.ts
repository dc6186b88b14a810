import type { CompiledOptions } from "../config/options.js";
import { TaskexecError } from "../protocol/errors.js";
import { RateLimiter } from "./rate-limiter.js";

export type Admission = { ok: true } | { ok: false; error: TaskexecError; retryAfterS: number };

/**
 * Admission before the engine sees a submission: the per-principal rate limit
 * (`limits.submit_per_minute`). Quotas (`limits.max_active_tasks`, `limits.max_resources`) are
 * not judged here but by the store, atomically with the insert (see `SubmissionOptions.quota`):
 * a check here and an insert there let parallel requests share the same room.
 */
export class SubmissionGuard {
  readonly #limits: CompiledOptions["limits"];
  readonly #rate: RateLimiter;

  constructor(limits: CompiledOptions["limits"], now?: () => number) {
    this.#limits = limits;
    this.#rate = new RateLimiter(limits.submit_per_minute, now);
  }

  /** One admission per message, in order: each takes a token from the principal's bucket. */
  admit(principal: string, messages: readonly unknown[]): Admission[] {
    return messages.map((): Admission => {
      const waitMs = this.#rate.take(principal);
      if (waitMs === 0) return { ok: true };
      const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
      return {
        ok: false,
        retryAfterS,
        error: new TaskexecError(
          "rate_limited",
          `more than ${this.#limits.submit_per_minute} submissions a minute; retry in ${retryAfterS} s`,
        ),
      };
    });
  }
}
