import { createHash, randomUUID } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { TaskexecError } from "../protocol/errors.js";
import { type AuthenticatedPrincipal, ROLES, type Role } from "./roles.js";

/**
 * The audience of a message signature: a message on the broker. HTTP refuses a token with it, so
 * a signature read off a message is no credential anywhere.
 */
export const MESSAGE_AUDIENCE = "taskexec:message";
/** How long a signature holds: long enough for a broker's delays, too short to hoard. */
const SIGNATURE_TTL_S = 120;

/** The digest a signature is bound to: SHA-256 of the message's JSON without its `header.auth`. */
function messageDigest(json: string): string {
  return createHash("sha256").update(json).digest("base64url");
}

/**
 * Proof of origin for the messages a process publishes (`task_status` on the broker, SPEC §2):
 * each signature is a short HS256 JWT of the process's principal and roles, bound to one message's
 * digest (`dig`) and to {@link MESSAGE_AUDIENCE}. A reader of the message can check who sent it,
 * and can neither present it over HTTP nor put it on another message.
 */
export class MessageSigner {
  readonly #key: Uint8Array;
  readonly #sub: string;
  readonly #roles: readonly Role[];

  constructor(secret: string, sub: string, roles: readonly Role[]) {
    this.#key = new TextEncoder().encode(secret);
    this.#sub = sub;
    this.#roles = roles;
  }

  /** The signature of `message` (its JSON as sent, without the signature). */
  sign(message: string): Promise<string> {
    const digest = messageDigest(message);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ roles: [...this.#roles], dig: digest })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(this.#sub)
      .setAudience(MESSAGE_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + SIGNATURE_TTL_S)
      .setJti(randomUUID())
      .sign(this.#key);
  }
}

/** Checks message signatures made with the same secret. */
export class MessageVerifier {
  readonly #key: Uint8Array;
  readonly #clockToleranceS: number;

  constructor(secret: string, clockToleranceS = 5) {
    this.#key = new TextEncoder().encode(secret);
    this.#clockToleranceS = clockToleranceS;
  }

  /**
   * Who signed `message` (its JSON as received, less the signature); throws `unauthenticated`
   * for a signature that is not valid, has expired, is a plain token (not for a message), or was
   * made for another message.
   */
  async verify(signature: string, message: string): Promise<AuthenticatedPrincipal> {
    const digest = messageDigest(message);
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(signature, this.#key, {
        algorithms: ["HS256"],
        audience: MESSAGE_AUDIENCE,
        requiredClaims: ["exp", "sub"],
        clockTolerance: this.#clockToleranceS,
      }));
    } catch (error) {
      throw new TaskexecError("unauthenticated", "the message's signature is not valid for a message", {
        cause: error,
      });
    }
    if (payload.dig !== digest)
      throw new TaskexecError("unauthenticated", "the message's signature was made for another message");
    const roles = Array.isArray(payload.roles)
      ? payload.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r))
      : [];
    return { id: String(payload.sub), roles };
  }
}
