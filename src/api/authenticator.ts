import type { FastifyRequest } from "fastify";
import { TaskexecError } from "../protocol/errors.js";
import { type AuthenticatedPrincipal, authorize, type Permission } from "../security/roles.js";
import type { TokenVerifier } from "../security/token-verifier.js";

/** With auth off (loopback only), every caller is this admin. */
const ANONYMOUS_ADMIN: AuthenticatedPrincipal = { id: "anonymous", roles: ["admin"] };

/**
 * Reads the Bearer token of a request, verifies it, and checks a permission. The token is
 * verified once per request: {@link identify} runs on the headers alone, before any body is
 * read, so a caller without a valid token cannot hold a socket open by sending a slow body.
 */
export class Authenticator {
  readonly #identified = new WeakMap<FastifyRequest, Promise<AuthenticatedPrincipal>>();

  constructor(private readonly verifier: TokenVerifier | undefined) {}

  /** Who the request's token speaks for; rejects with `unauthenticated`. */
  identify(request: FastifyRequest): Promise<AuthenticatedPrincipal> {
    let principal = this.#identified.get(request);
    if (principal === undefined) {
      principal = this.#verify(request);
      this.#identified.set(request, principal);
    }
    return principal;
  }

  async authenticate(request: FastifyRequest, permission: Permission): Promise<AuthenticatedPrincipal> {
    const principal = await this.identify(request);
    authorize(principal, permission);
    return principal;
  }

  async #verify(request: FastifyRequest): Promise<AuthenticatedPrincipal> {
    if (this.verifier === undefined) return ANONYMOUS_ADMIN;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new TaskexecError(
        "unauthenticated",
        "send a token: Authorization: Bearer <jwt> (taskexec token mints one)",
      );
    }
    return this.verifier.verify(match[1]!);
  }
}
