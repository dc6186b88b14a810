import { generateKeyPair as generateNodeKeyPair } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { calculateJwkThumbprint, compactDecrypt, exportJWK, importJWK, type JWK } from "jose";
import { ConfigError } from "../config/config-error.js";
import { CONTENT_ENCRYPTION } from "./json-encryption.js";
import { writeSecretFile } from "./secret-file.js";

/** The one key management algorithm of message-level encryption (SPEC §6). */
export const KEY_ALGORITHM = "RSA-OAEP-256";
/** Where the executors' keys are generated when `security.encryption_key_file` names none. */
export const ENCRYPTION_KEYS_FILE = "encryption-keys.json";
const MIN_MODULUS_BITS = 2048;

const generateRsa = promisify(generateNodeKeyPair);

/** Why a JWE could not be opened: said to the submitter (it names no key material). */
export class DecryptionError extends Error {
  override name = "DecryptionError";
}

interface KeyEntry {
  kid: string;
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  publicJwk: JWK;
}

/**
 * The executors' RSA keys for message-level encryption: a submitter encrypts a
 * `task_specification` for the current one (the first of `GET /v1/keys`'s `use: "enc"` keys), and
 * admission opens it with whichever key its `kid` names, so that the keys listed after the current
 * one (older ones, until removed from the file) still open what was encrypted for them.
 *
 * Kept as a private JWKS (JSON, mode 0600): the file `security.encryption_key_file` names, the
 * same on every process that admits submissions, or else one generated into the data directory
 * on the first start.
 */
export class EncryptionKeys {
  readonly #from: { file?: string | undefined; dataDir: string };
  #keys: Promise<readonly KeyEntry[]> | undefined;

  /**
   * The keys of `file`, or of the data directory's file, generated there when there is none: read
   * (and generated) on first use, so that an executor nobody sends encrypted messages to writes
   * no key. {@link load} reads them at once, to refuse a bad file at start.
   */
  constructor(from: { file?: string | undefined; dataDir: string }) {
    this.#from = from;
  }

  /** Reads (or generates) the keys now; throws ConfigError for a file that cannot serve. */
  async load(): Promise<void> {
    await this.#entries();
  }

  #entries(): Promise<readonly KeyEntry[]> {
    if (this.#keys === undefined) {
      const reading = readKeys(this.#from);
      // A failed read is tried again next time (the file may be fixed, the disk freed).
      reading.catch(() => {
        if (this.#keys === reading) this.#keys = undefined;
      });
      this.#keys = reading;
    }
    return this.#keys;
  }

  /** The public keys, current first, as `GET /v1/keys` lists them. */
  async publicJwks(): Promise<JWK[]> {
    return (await this.#entries()).map((k) => k.publicJwk);
  }

  /**
   * The plaintext of a JWE compact string made for one of these keys (the one its `kid` names;
   * without a `kid`, the current one), with `RSA-OAEP-256` and `A256GCM` and nothing else.
   */
  async decrypt(jwe: string): Promise<Uint8Array> {
    const keys = await this.#entries();
    try {
      const { plaintext } = await compactDecrypt(
        jwe,
        (header) => {
          const key = header.kid === undefined ? keys[0] : keys.find((k) => k.kid === header.kid);
          if (key === undefined)
            throw new DecryptionError(
              `encrypted for the key "${header.kid}", which this executor does not hold (GET /v1/keys lists the ones it does)`,
            );
          return key.privateKey;
        },
        { keyManagementAlgorithms: [KEY_ALGORITHM], contentEncryptionAlgorithms: [CONTENT_ENCRYPTION] },
      );
      return plaintext;
    } catch (error) {
      if (error instanceof DecryptionError) throw error;
      throw new DecryptionError(`not a JWE this executor can open (${joseReason(error)})`);
    }
  }
}

async function readKeys(from: { file?: string | undefined; dataDir: string }): Promise<KeyEntry[]> {
  const path = "security.encryption_key_file";
  const file = from.file ?? join(from.dataDir, ENCRYPTION_KEYS_FILE);
  if (from.file === undefined && !existsSync(file)) {
    const key = await newEncryptionKey();
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeSecretFile(file, JSON.stringify({ keys: [key] }, null, 2));
    } catch (error) {
      throw new ConfigError([
        {
          path: "data_dir",
          message: `cannot write the encryption keys to ${file}: ${(error as Error).message}`,
        },
      ]);
    }
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError([{ path, message: `cannot read ${file}: ${(error as Error).message}` }]);
  }
  const listed = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(listed) || listed.length === 0)
    throw new ConfigError([
      {
        path,
        message: `${file} must be a JWKS ({"keys": [...]}) of RSA private keys (taskexec keys rotate --encryption writes one)`,
      },
    ]);
  const keys: KeyEntry[] = [];
  for (const [index, jwk] of (listed as JWK[]).entries()) {
    const refuse = (why: string) => new ConfigError([{ path, message: `${file}: key ${index} ${why}` }]);
    if (jwk?.kty !== "RSA" || typeof jwk.d !== "string" || typeof jwk.n !== "string")
      throw refuse("is not an RSA private key in JWK form");
    if (Buffer.from(jwk.n, "base64url").length * 8 < MIN_MODULUS_BITS)
      throw refuse(`is shorter than ${MIN_MODULUS_BITS} bits`);
    const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
    let privateKey: KeyEntry["privateKey"];
    try {
      privateKey = await importJWK({ ...jwk, alg: KEY_ALGORITHM }, KEY_ALGORITHM);
    } catch (error) {
      throw refuse(`cannot be used: ${(error as Error).message}`);
    }
    keys.push({ kid, privateKey, publicJwk: publicHalf(jwk, kid) });
  }
  return keys;
}

/** A new RSA-2048 private key as a JWK, with its thumbprint as `kid`. */
export async function newEncryptionKey(): Promise<JWK> {
  const { privateKey } = await generateRsa("rsa", { modulusLength: MIN_MODULUS_BITS });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg: KEY_ALGORITHM, use: "enc" };
}

function publicHalf(jwk: JWK, kid: string): JWK {
  return { kty: "RSA", n: jwk.n!, e: jwk.e!, kid, use: "enc", alg: KEY_ALGORITHM };
}

/** jose's reason, in its words but without its class name (e.g. "decryption operation failed"). */
function joseReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? `${code}: ${message}` : message;
}

/**
 * Makes a new key the current one of `file` (`taskexec keys rotate --encryption`): submitters
 * encrypt for it from their next `GET /v1/keys`; the older keys stay listed, and still decrypt,
 * until they are removed from the file. Returns the new key's `kid`.
 */
export async function addEncryptionKey(file: string): Promise<string> {
  let keys: unknown[] = [];
  if (existsSync(file)) {
    let listed: unknown;
    try {
      listed = (JSON.parse(readFileSync(file, "utf8")) as { keys?: unknown } | null)?.keys;
    } catch (error) {
      throw new ConfigError([
        { path: "security.encryption_key_file", message: `cannot read ${file}: ${(error as Error).message}` },
      ]);
    }
    if (!Array.isArray(listed))
      throw new ConfigError([
        { path: "security.encryption_key_file", message: `${file} is not a JWKS ({"keys": [...]})` },
      ]);
    keys = listed;
  } else mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = await newEncryptionKey();
  writeSecretFile(file, JSON.stringify({ keys: [key, ...keys] }, null, 2));
  return key.kid!;
}
