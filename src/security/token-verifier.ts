import { createPublicKey, type KeyObject, webcrypto } from "node:crypto";
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { CompiledOptions } from "../config/options.js";
import { TaskexecError } from "../protocol/errors.js";
import { MESSAGE_AUDIENCE } from "./message-signature.js";
import { type AuthenticatedPrincipal, ROLES, type Role } from "./roles.js";

export interface TokenVerifier {
  verify(token: string): Promise<AuthenticatedPrincipal>;
}

type KeyInput = webcrypto.CryptoKey | KeyObject | ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies JWTs (SPEC §6) with jose: HS256 with `auth.jwt_secret`, RS256/ES256 with
 * `auth.public_key` or `auth.jwks_url`. `exp` and `sub` are required, `iss`/`aud` checked when
 * configured, and only the configured algorithms pass — so `alg: none` never does. `sub` must be a
 * non-empty string and `roles` an array (SPEC §6); roles this server does not know are ignored.
 */
export function createTokenVerifier(auth: CompiledOptions["auth"], secret = auth.jwt_secret): TokenVerifier {
  let key: KeyInput | Promise<webcrypto.CryptoKey>;
  let algorithms: string[];
  if (auth.jwks_url !== undefined) {
    key = createRemoteJWKSet(new URL(auth.jwks_url));
    algorithms = ["RS256", "ES256"];
  } else if (auth.public_key !== undefined) {
    const publicKey = createPublicKey(auth.public_key);
    key = publicKey;
    algorithms = publicKey.asymmetricKeyType === "ec" ? ["ES256"] : ["RS256"];
  } else if (secret !== undefined) {
    // Imported once: given the raw secret, jose imports it anew for every token it checks (at a
    // burst of a thousand connections, half of what checking their tokens cost).
    key = webcrypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    algorithms = ["HS256"];
  } else {
    throw new TaskexecError(
      "unauthenticated",
      "no way to verify tokens: set auth.jwt_secret, auth.public_key or auth.jwks_url",
    );
  }
  const verified = new VerifiedTokens();
  // A token being checked, shared by the requests that bring it meanwhile: a client opening a
  // thousand streams with one token at once has it checked once, not a thousand times.
  const checking = new Map<string, Promise<AuthenticatedPrincipal>>();
  const check = async (token: string): Promise<AuthenticatedPrincipal> => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, (await key) as KeyObject, {
        algorithms,
        requiredClaims: ["exp", "sub"],
        clockTolerance: auth.clock_tolerance_s,
        ...(auth.issuer !== undefined && { issuer: auth.issuer }),
        ...(auth.audience !== undefined && { audience: auth.audience }),
      }));
    } catch (error) {
      throw new TaskexecError("unauthenticated", describeJoseError(error), { cause: error });
    }
    // A message's signature (read off the broker) proves who sent that message; it is no credential.
    const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (audience.includes(MESSAGE_AUDIENCE))
      throw new TaskexecError("unauthenticated", "the token is a message's signature, not a credential");
    // The principal names a tenant: only a non-empty string will do ("123" and 123.0 are not one).
    if (typeof payload.sub !== "string" || payload.sub.trim() === "")
      throw new TaskexecError("unauthenticated", 'the token\'s "sub" claim must be a non-empty string');
    if (!Array.isArray(payload.roles))
      throw new TaskexecError(
        "unauthenticated",
        'the token has no "roles" claim (an array of submitter, executor, admin)',
      );
    const roles = payload.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r));
    const principal = { id: payload.sub, roles };
    verified.set(token, principal, payload.exp! * 1000 + auth.clock_tolerance_s * 1000);
    return principal;
  };
  return {
    verify(token) {
      const known = verified.get(token);
      if (known !== undefined) return Promise.resolve(known);
      let pending = checking.get(token);
      if (pending === undefined) {
        pending = check(token).finally(() => checking.delete(token));
        checking.set(token, pending);
      }
      return pending;
    },
  };
}

/** Tokens verified in the last minute, so a client's every request does not pay for a signature check. */
const VERIFIED_MAX = 1_000;
const VERIFIED_FOR_MS = 60_000;

/**
 * A small cache of verified tokens (a client sends the same token with every request; checking its
 * signature was a tenth of the CPU of an HTTP submit). An entry lasts a minute and never past the
 * token's own expiry, so an expired token is refused as before; the oldest entry goes first when full.
 */
class VerifiedTokens {
  readonly #entries = new Map<string, { principal: AuthenticatedPrincipal; until: number }>();

  get(token: string): AuthenticatedPrincipal | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (Date.now() < entry.until) return entry.principal;
    this.#entries.delete(token);
    return undefined;
  }

  set(token: string, principal: AuthenticatedPrincipal, expiresAt: number): void {
    if (this.#entries.size >= VERIFIED_MAX) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(token, { principal, until: Math.min(expiresAt, Date.now() + VERIFIED_FOR_MS) });
  }
}

function describeJoseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  switch (code) {
    case "ERR_JWT_EXPIRED":
      return "the token has expired";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the token's signature is not valid";
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "the token's algorithm is not accepted";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return `the token's "${claim ?? "?"}" claim is missing or not accepted`;
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "no key of the JWKS matches the token";
    default:
      return "the token is malformed";
  }
}
