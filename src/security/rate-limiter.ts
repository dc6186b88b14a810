interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per principal: `perMinute` submissions a minute, in bursts of up to `perMinute`.
 * Idle full buckets are forgotten, so memory follows active principals only.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;

  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#perMs = perMinute / 60_000;
  }

  /** Takes one token: 0 when granted, else how many ms until one is free. */
  take(principal: string): number {
    const now = this.now();
    const bucket = this.#buckets.get(principal) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(principal, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      if (this.#buckets.size > 10_000) this.#forgetIdle(now);
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#perMs);
  }

  #forgetIdle(now: number): void {
    for (const [principal, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.perMinute) this.#buckets.delete(principal);
    }
  }
}
