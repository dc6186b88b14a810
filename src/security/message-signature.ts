import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  randomUUID,
} from "node:crypto";
import { readFileSync } from "node:fs";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import { ConfigError } from "../config/config-error.js";
import { TaskexecError } from "../protocol/errors.js";
import { batchProofs, MAX_BATCH, rootOf } from "./batch-proof.js";
import { type AuthenticatedPrincipal, ROLES, type Role } from "./roles.js";

/**
 * The audience of a message signature: a message on the broker. HTTP refuses a token with it, so
 * a signature read off a message is no credential anywhere.
 */
export const MESSAGE_AUDIENCE = "taskexec:message";
/**
 * How long a signature holds by default: long enough for a broker's delays, too short to hoard.
 * `security.message_window_ms` sets it (signers and readers read the same setting).
 */
const SIGNATURE_TTL_S = 120;
/**
 * How long the signature of work (a `taskexec.tasks` message) holds: work may wait in the queue
 * that long for a worker. Replaying work is harmless (a worker claims the task in the store, fenced),
 * so its signatures are not checked for repeats; past this, the store announces the task again.
 */
const WORK_SIGNATURE_TTL_S = 24 * 3600;

/** What a message signature is for: a status or heartbeat (short, once), or work (lasting). */
export interface SignatureUse {
  work?: boolean | undefined;
}
/** The JWS algorithm of message signatures: Ed25519, small and fast to verify. */
const ALG = "EdDSA";

/** The digest a signature is bound to: SHA-256 of the message's bytes as sent, less the signature. */
function messageDigest(bytes: string | Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64url");
}

/**
 * The cluster's message signing key (Ed25519): its private half signs what the api and the workers
 * publish, its public half (`GET /v1/keys`, `use: "sig"`) lets anyone check it, submitters
 * included, who hold no secret. From `security.signing_key_file` (a PKCS#8 PEM), or derived from
 * the shared `auth.jwt_secret` (HKDF-SHA256), so that every process holding that secret, and only
 * those, signs with the same key with nothing more to distribute.
 */
export interface SigningKey {
  privateKey: KeyObject;
  /** The public JWK, with `kid` (its thumbprint), `use: "sig"` and `alg`. */
  publicJwk: JWK;
}

/** RFC 8410's PKCS#8 prefix of a 32-byte Ed25519 seed. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export async function signingKey(from: {
  file?: string | undefined;
  secret?: string | undefined;
}): Promise<SigningKey> {
  let privateKey: KeyObject;
  if (from.file !== undefined) {
    const refuse = (why: string) =>
      new ConfigError([
        {
          path: "security.signing_key_file",
          message: `${from.file} ${why}: it must hold an Ed25519 private key in PEM (openssl genpkey -algorithm ed25519)`,
        },
      ]);
    try {
      privateKey = createPrivateKey(readFileSync(from.file));
    } catch (error) {
      throw refuse(`cannot be read as a private key (${(error as Error).message})`);
    }
    if (privateKey.asymmetricKeyType !== "ed25519")
      throw refuse(`holds a ${privateKey.asymmetricKeyType} key`);
  } else if (from.secret !== undefined) {
    const seed = Buffer.from(hkdfSync("sha256", from.secret, "taskexec", "message signing key v1", 32));
    privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: "der",
      type: "pkcs8",
    });
  } else {
    throw new TypeError("a signing key needs security.signing_key_file or auth.jwt_secret");
  }
  const jwk = await exportJWK(createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, publicJwk: { ...jwk, kid, use: "sig", alg: ALG } };
}

/**
 * Proof of origin for the messages a process publishes on the broker (statuses, heartbeats, work):
 * each signature is a short EdDSA JWT of the process's principal and roles, bound to the message's
 * digest (`dig`) and to {@link MESSAGE_AUDIENCE}, with an id of its own (`jti`). A reader checks
 * who sent it with the public key alone, and can neither present it over HTTP nor put it on
 * another message.
 *
 * The messages asked for in one event-loop turn are signed together: one JWT binds the root of a
 * Merkle tree of them (`root`, and their count `n`; see batch-proof.ts), and each message's
 * signature is that JWT followed by its place and audit path, `<jwt>~<index>~<hash>~…`. An Ed25519
 * signature through jose costs about 200 µs of CPU to make and as much to check, several per task
 * in distributed mode; a batch pays it once (issue 27's measurements, docs/ARCHITECTURE.md). A
 * message alone in its turn gets a plain JWT with `dig`, as before.
 */
export class MessageSigner {
  readonly #key: SigningKey;
  readonly #sub: string;
  readonly #roles: readonly Role[];
  readonly #ttlS: number;
  /** Messages waiting for this turn's signature, statuses apart from work (their lifetimes differ). */
  readonly #waiting = { status: [] as Pending[], work: [] as Pending[] };

  /** `ttlMs`: how long a status's or heartbeat's signature holds (the readers' window). */
  constructor(key: SigningKey, sub: string, roles: readonly Role[], ttlMs = SIGNATURE_TTL_S * 1000) {
    this.#key = key;
    this.#sub = sub;
    this.#roles = roles;
    this.#ttlS = Math.ceil(ttlMs / 1000);
  }

  /** The signature of `message` (its bytes as sent, without the signature). */
  sign(message: string | Uint8Array, use: SignatureUse = {}): Promise<string> {
    const kind = use.work === true ? "work" : "status";
    return new Promise((resolve, reject) => {
      const waiting = this.#waiting[kind];
      if (waiting.length === 0) setImmediate(() => this.#signWaiting(kind));
      waiting.push({ message, resolve, reject });
    });
  }

  #signWaiting(kind: "status" | "work"): void {
    const waiting = this.#waiting[kind];
    this.#waiting[kind] = [];
    for (let at = 0; at < waiting.length; at += MAX_BATCH) {
      const batch = waiting.slice(at, at + MAX_BATCH);
      this.#signBatch(batch, kind === "work").then(
        (signatures) => batch.forEach((pending, i) => pending.resolve(signatures[i]!)),
        (error: unknown) => batch.forEach((pending) => pending.reject(error)),
      );
    }
  }

  async #signBatch(batch: readonly Pending[], work: boolean): Promise<string[]> {
    if (batch.length === 1) return [await this.#jwt({ dig: messageDigest(batch[0]!.message) }, work)];
    const { root, paths } = batchProofs(batch.map((p) => p.message));
    const jwt = await this.#jwt({ root, n: batch.length }, work);
    return paths.map((path, i) => [jwt, String(i), ...path].join(PROOF_SEPARATOR));
  }

  #jwt(binding: { dig: string } | { root: string; n: number }, work: boolean): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims = { roles: [...this.#roles], ...binding, ...(work && { work: true }) };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, typ: "JWT", kid: this.#key.publicJwk.kid! })
      .setSubject(this.#sub)
      .setAudience(MESSAGE_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + (work ? WORK_SIGNATURE_TTL_S : this.#ttlS))
      .setJti(randomUUID())
      .sign(this.#key.privateKey);
  }
}

interface Pending {
  message: string | Uint8Array;
  resolve: (signature: string) => void;
  reject: (error: unknown) => void;
}

/** Batch JWTs a verifier remembers as checked (a few turns' worth of each signer's). */
const BATCHES_REMEMBERED = 256;

/** Between a batch signature's JWT, the message's place in the batch, and its audit path. */
const PROOF_SEPARATOR = "~";

export interface MessageVerifierOptions {
  /** How old a signature may be (by its `iat`); older is refused as a replay. @default 120000 */
  windowMs?: number;
  /** How far ahead of this clock a signer's may be (its `iat` in the future). @default 5 */
  clockSkewS?: number;
  /** Signature ids remembered to refuse a replay within the window. @default 200000 */
  rememberIds?: number;
}

/**
 * Checks message signatures against the cluster's public keys: valid, for a message, made for
 * this message, not expired (no clock tolerance: a signature lives two minutes and is made as
 * the message is sent), not older than the window, and not seen before (a replay). A message the
 * broker delivers again (`redelivered`) may repeat a signature it carried.
 */
export class MessageVerifier {
  readonly #keys: ReturnType<typeof createLocalJWKSet>;
  readonly #windowS: number;
  readonly #skewS: number;
  readonly #remember: number;
  /** Signature ids seen, with when they stop mattering (their expiry), oldest first. */
  readonly #seen = new Map<string, number>();
  /** Batch JWTs checked lately, with their claims, oldest first. */
  readonly #batches = new Map<string, Record<string, unknown>>();

  constructor(keys: JSONWebKeySet, options: MessageVerifierOptions = {}) {
    this.#keys = createLocalJWKSet(keys);
    this.#windowS = Math.ceil((options.windowMs ?? SIGNATURE_TTL_S * 1000) / 1000);
    this.#skewS = options.clockSkewS ?? 5;
    this.#remember = options.rememberIds ?? 200_000;
  }

  /**
   * Who signed `message` (its bytes as received, less the signature); throws `unauthenticated`
   * for a signature that is not valid, has expired, is a plain token (not for a message), was
   * made for another message, or was seen before.
   */
  async verify(
    signature: string,
    message: string | Uint8Array,
    options: SignatureUse & { redelivered?: boolean } = {},
  ): Promise<AuthenticatedPrincipal> {
    const [jwt, place, ...path] = signature.split(PROOF_SEPARATOR);
    const payload = await this.#claimsOf(jwt!);
    if ((payload.work === true) !== (options.work === true))
      throw new TaskexecError(
        "unauthenticated",
        "the message's signature was made for another kind of message",
      );
    const once = this.#boundTo(payload, message, place, path);
    if (once === undefined)
      throw new TaskexecError("unauthenticated", "the message's signature was made for another message");
    // Work lasts until its signature expires, and may come again (see WORK_SIGNATURE_TTL_S).
    if (options.work === true) return principalOf(payload);
    // Judged here, not by jose's maxTokenAge: a signer's clock a little ahead is no replay.
    const age = Date.now() / 1000 - Number(payload.iat);
    if (age > this.#windowS)
      throw new TaskexecError(
        "unauthenticated",
        `the message was signed ${Math.round(age)} s ago (a replay?)`,
      );
    if (age < -this.#skewS)
      throw new TaskexecError("unauthenticated", "the message's signature is dated in the future");
    this.#once(once, Number(payload.exp) * 1000, options.redelivered === true);
    return principalOf(payload);
  }

  /**
   * The claims of a valid message JWT. A batch's JWT comes once per message of the batch: the
   * last ones checked are remembered (until they expire), so that it is checked once.
   */
  async #claimsOf(jwt: string): Promise<Record<string, unknown>> {
    const known = this.#batches.get(jwt);
    if (known !== undefined) {
      if (Number(known.exp) * 1000 > Date.now()) return known;
      throw new TaskexecError("unauthenticated", "the message's signature has expired");
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(jwt, this.#keys, {
        algorithms: [ALG],
        audience: MESSAGE_AUDIENCE,
        requiredClaims: ["exp", "iat", "sub", "jti"],
      }));
    } catch (error) {
      throw new TaskexecError("unauthenticated", "the message's signature is not valid for a message", {
        cause: error,
      });
    }
    if (typeof payload.root === "string") {
      if (this.#batches.size >= BATCHES_REMEMBERED) this.#batches.delete(this.#batches.keys().next().value!);
      this.#batches.set(jwt, payload);
    }
    return payload;
  }

  /**
   * Whether the claims bind this message, and then the id that makes its signature single-use:
   * the JWT's `jti` for a message signed alone (`dig`), and `jti#place` for one of a batch (its
   * audit path leads to the batch's `root`).
   */
  #boundTo(
    payload: Record<string, unknown>,
    message: string | Uint8Array,
    place: string | undefined,
    path: readonly string[],
  ): string | undefined {
    const jti = String(payload.jti);
    if (place === undefined) return payload.dig === messageDigest(message) ? jti : undefined;
    if (typeof payload.root !== "string" || typeof payload.n !== "number" || !/^\d{1,4}$/.test(place))
      return undefined;
    const index = Number(place);
    return rootOf(message, index, payload.n, path) === payload.root ? `${jti}#${index}` : undefined;
  }

  #once(id: string, until: number, redelivered: boolean): void {
    if (this.#seen.has(id)) {
      if (redelivered) return;
      throw new TaskexecError("unauthenticated", "the message's signature was seen before (a replay)");
    }
    const now = Date.now();
    // Oldest first: what expired is dropped from the front; past the bound, the oldest go too.
    for (const [seen, expires] of this.#seen) {
      if (expires > now && this.#seen.size < this.#remember) break;
      this.#seen.delete(seen);
    }
    this.#seen.set(id, until);
  }
}

function principalOf(payload: Record<string, unknown>): AuthenticatedPrincipal {
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is Role => (ROLES as readonly unknown[]).includes(r))
    : [];
  return { id: String(payload.sub), roles };
}

/**
 * Whether a message from the broker was signed with one of the cluster's keys by an executor (a
 * worker, or an api: both sign as executors) or an admin, fresh and not seen before: the check
 * every process of distributed mode, and every client of the broker, puts on what it hears.
 */
export function executorSignatureCheck(
  keys: JSONWebKeySet,
  limits: MessageVerifierOptions = {},
): (
  signature: string,
  message: string | Uint8Array,
  options: SignatureUse & { redelivered: boolean },
) => Promise<boolean> {
  const verifier = new MessageVerifier(keys, limits);
  return async (signature, message, options) => {
    const { roles } = await verifier.verify(signature, message, options);
    return roles.includes("executor") || roles.includes("admin");
  };
}
