import type { Role } from "./roles.js";
import { signToken } from "./token-signer.js";

/**
 * A process's own token (a worker's, role `executor`, for the statuses it publishes): minted
 * when first asked for, and again once less than a tenth of its life is left, so that a message
 * never leaves with a token about to expire. Concurrent callers share one signing.
 */
export class RenewingToken {
  readonly #secret: string;
  readonly #sub: string;
  readonly #roles: readonly Role[];
  readonly #ttlS: number;
  readonly #now: () => number;
  #token: Promise<string> | undefined;
  #renewAt = 0;

  constructor(
    secret: string,
    sub: string,
    roles: readonly Role[],
    ttlS = 3_600,
    now: () => number = Date.now,
  ) {
    this.#secret = secret;
    this.#sub = sub;
    this.#roles = roles;
    this.#ttlS = ttlS;
    this.#now = now;
  }

  get(): Promise<string> {
    const now = this.#now();
    if (this.#token === undefined || now >= this.#renewAt) {
      this.#renewAt = now + this.#ttlS * 900; // 90 % of the ttl, in ms
      const token = signToken(this.#secret, { sub: this.#sub, roles: this.#roles, ttl: `${this.#ttlS}s` });
      token.catch(() => {
        if (this.#token === token) this.#token = undefined;
      });
      this.#token = token;
    }
    return this.#token;
  }
}
