import type { FastifyRequest } from "fastify";
import { TaskexecError } from "../protocol/errors.js";
import { type AuthenticatedPrincipal, authorize, type Permission } from "../security/roles.js";
import type { TokenVerifier } from "../security/token-verifier.js";

/** With auth off (loopback only), every caller is this admin. */
const ANONYMOUS_ADMIN: AuthenticatedPrincipal = { id: "anonymous", roles: ["admin"] };

/** Reads the Bearer token of a request, verifies it, and checks a permission. */
export class Authenticator {
  constructor(private readonly verifier: TokenVerifier | undefined) {}

  async authenticate(request: FastifyRequest, permission: Permission): Promise<AuthenticatedPrincipal> {
    if (this.verifier === undefined) return ANONYMOUS_ADMIN;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new TaskexecError(
        "unauthenticated",
        "send a token: Authorization: Bearer <jwt> (taskexec token mints one)",
      );
    }
    const principal = await this.verifier.verify(match[1]!);
    authorize(principal, permission);
    return principal;
  }
}
