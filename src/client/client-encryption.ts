import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type KeyObject } from "jose";
import type { TaskSnapshot } from "../engine/task-snapshot.js";
import type { TaskStatus } from "../protocol/task-status.js";
import { decryptJson, encryptJson } from "../security/json-encryption.js";

/** A submitter's key pair for its results: the public half goes with each submission. */
export interface ResultKeyPair {
  /** Sent as `task_specification.result_key`: RSA (2048 bits or more), EC P-256/384/521 or X25519. */
  publicJwk: JWK;
  /** Opens the results; kept by the client, never sent. */
  privateKey: JWK | KeyObject | CryptoKey;
}

export interface ClientEncryptionOptions {
  /**
   * Encrypt every `task_specification` (a JWE, `RSA-OAEP-256` + `A256GCM`) for the executors'
   * current key, the first `use: "enc"` key of `GET /v1/keys`: only the executors read it.
   * @default false
   */
  encrypt?: boolean | undefined;
  /**
   * Have results encrypted for this key pair (see {@link generateResultKey}): the server, the
   * store and the broker then carry them only as JWE strings, and this client opens them as it
   * reads statuses and snapshots. Keep the pair to read them again later.
   */
  resultKey?: ResultKeyPair | undefined;
}

/** A new key pair for results (ECDH-ES on P-256: quick to make, small to send). */
export async function generateResultKey(): Promise<ResultKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair("ECDH-ES+A256KW", {
    crv: "P-256",
    extractable: true,
  });
  return { publicJwk: await exportJWK(publicKey), privateKey };
}

/** How long the executors' keys are used before they are asked for again (GET /v1/keys says 300 s). */
const KEYS_FOR_MS = 300_000;

interface SubmitMessage {
  body: Record<string, unknown>;
}

/**
 * What a client does for message-level encryption (SPEC §6): encrypts what it submits for the
 * executors, and opens the results encrypted for its own key. The executors' keys are fetched
 * once (and again after five minutes), from wherever the client learns them.
 */
export class ClientEncryption {
  readonly #fetchKeys: () => Promise<readonly JWK[]>;
  readonly #encrypt: boolean;
  readonly #resultKey: ResultKeyPair | undefined;
  #current: { key: Promise<JWK>; until: number } | undefined;

  constructor(fetchKeys: () => Promise<readonly JWK[]>, options: ClientEncryptionOptions) {
    this.#fetchKeys = fetchKeys;
    this.#encrypt = options.encrypt ?? false;
    this.#resultKey = options.resultKey;
  }

  /** Whether there is anything to do: a client that encrypts nothing costs nothing. */
  get active(): boolean {
    return this.#encrypt || this.#resultKey !== undefined;
  }

  /** The message with its result key added and its specification encrypted, as asked. */
  async seal<M extends SubmitMessage>(message: M): Promise<M> {
    let specification = message.body.task_specification;
    if (this.#resultKey !== undefined && typeof specification === "object" && specification !== null)
      specification = { ...specification, result_key: this.#resultKey.publicJwk };
    if (this.#encrypt) specification = await encryptJson(await this.#executorKey(), specification);
    return { ...message, body: { ...message.body, task_specification: specification } };
  }

  /** A status with its result opened (when it is one encrypted for this client's key). */
  async openStatus(status: TaskStatus): Promise<TaskStatus> {
    const details = status.body.details;
    if (this.#resultKey === undefined || typeof details?.result !== "string") return status;
    const result = await this.#open(details.result);
    return { ...status, body: { ...status.body, details: { ...details, result } } };
  }

  /** A snapshot with its result opened (when it is one encrypted for this client's key). */
  async openSnapshot(snapshot: TaskSnapshot): Promise<TaskSnapshot> {
    if (this.#resultKey === undefined || typeof snapshot.result !== "string") return snapshot;
    return { ...snapshot, result: await this.#open(snapshot.result) };
  }

  /** The statuses of a watch, each opened as it comes. */
  async *openAll(statuses: AsyncIterable<TaskStatus>): AsyncGenerator<TaskStatus> {
    for await (const status of statuses) yield await this.openStatus(status);
  }

  async #open(jwe: string): Promise<unknown> {
    // A result that merely is a string (not a JWE of this key) is left as it is.
    if (jwe.split(".").length !== 5) return jwe;
    return decryptJson(this.#resultKey!.privateKey, jwe);
  }

  #executorKey(): Promise<JWK> {
    const now = Date.now();
    if (this.#current === undefined || this.#current.until <= now) {
      const key = this.#fetchKeys().then((keys) => {
        const current = keys.find((k) => k.use === "enc");
        if (current === undefined)
          throw new TypeError("the server lists no encryption key (use: enc) in GET /v1/keys");
        return current;
      });
      const entry = { key, until: now + KEYS_FOR_MS };
      key.catch(() => {
        if (this.#current === entry) this.#current = undefined;
      });
      this.#current = entry;
    }
    return this.#current.key;
  }
}
