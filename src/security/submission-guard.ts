import type { CompiledOptions } from "../config/options.js";
import { TaskexecError } from "../protocol/errors.js";
import { coalescedAllowance } from "./coalesced-allowance.js";
import { RateLimiter } from "./rate-limiter.js";

export type Admission = { ok: true } | { ok: false; error: TaskexecError; retryAfterS: number };

/**
 * A principal's allowance counted for every process sharing the store (the store's
 * `takeSubmitAllowance`): how many of `wanted` it grants, and how long until the next.
 */
export type SharedAllowance = (
  principal: string,
  wanted: number,
  perMinute: number,
  now: number,
) => Promise<{ granted: number; waitMs: number }>;

/**
 * Admission before the engine sees a submission: the per-principal rate limit
 * (`limits.submit_per_minute`), counted in this process, or, where processes share a store, in
 * the store for all of them (`shared`), so that N processes do not allow N times the rate.
 * Quotas (`limits.max_active_tasks`, `limits.max_resources`) are not judged here but by the
 * store, atomically with the insert (see `SubmissionOptions.quota`): a check here and an insert
 * there let parallel requests share the same room.
 */
export class SubmissionGuard {
  readonly #limits: CompiledOptions["limits"];
  readonly #rate: RateLimiter;
  readonly #shared: SharedAllowance | undefined;
  readonly #now: () => number;

  constructor(
    limits: CompiledOptions["limits"],
    options: { now?: () => number; shared?: SharedAllowance } = {},
  ) {
    this.#limits = limits;
    this.#now = options.now ?? Date.now;
    this.#rate = new RateLimiter(limits.submit_per_minute, this.#now);
    // Concurrent takes of one principal go to the store together (see coalesced-allowance.ts).
    this.#shared = options.shared === undefined ? undefined : coalescedAllowance(options.shared);
  }

  /**
   * One admission per message, in order: each takes a token from the principal's bucket. Rejects
   * (the store's error) when a shared count cannot be read: nothing is admitted then.
   */
  async admit(principal: string, messages: readonly unknown[]): Promise<Admission[]> {
    if (this.#shared === undefined) return messages.map(() => this.#answer(this.#rate.take(principal)));
    const perMinute = this.#limits.submit_per_minute;
    const { granted, waitMs } = await this.#shared(principal, messages.length, perMinute, this.#now());
    return messages.map((_, i) => this.#answer(i < granted ? 0 : waitMs));
  }

  #answer(waitMs: number): Admission {
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
  }
}
