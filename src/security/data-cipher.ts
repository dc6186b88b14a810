import { createCipheriv, createDecipheriv, createHash, randomBytes, randomFillSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError } from "../config/config-error.js";
import { SEALED_MARK, type ValueSeal } from "../store/sealed-values.js";

const MARK = SEALED_MARK;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

interface DataKey {
  id: string;
  key: Buffer;
}

/**
 * Encryption at rest (SPEC §6): AES-256-GCM under the data key, each value with a fresh 96-bit
 * IV, its owner (the task id) as associated data, and the key's id in front —
 * `e1.<key id>.<base64url(iv | ciphertext | tag)>` — so that keys can rotate: new values are
 * sealed under the current key, and values under an older one still open while it is configured.
 */
export class DataCipher implements ValueSeal {
  readonly #current: DataKey;
  readonly #byId: ReadonlyMap<string, DataKey>;
  readonly currentPrefix: string;
  /**
   * Random IVs drawn a thousand at a time: one call into the random generator per value cost more
   * than the encryption itself (randomFillSync was 15% of a sealed run's profile).
   */
  readonly #ivs = Buffer.alloc(IV_BYTES * 1024);
  #ivAt = this.#ivs.length;

  /** `keys`: the current key first, then older ones still to be read (32 bytes each). */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new TypeError("DataCipher needs at least one key");
    const made = keys.map((key) => ({ id: keyId(key), key }));
    this.#current = made[0]!;
    this.#byId = new Map(made.map((k) => [k.id, k]));
    this.currentPrefix = `${MARK}${this.#current.id}.`;
  }

  seal(json: string, owner: string): string {
    if (this.#ivAt === this.#ivs.length) {
      randomFillSync(this.#ivs);
      this.#ivAt = 0;
    }
    const iv = this.#ivs.subarray(this.#ivAt, (this.#ivAt += IV_BYTES));
    const cipher = createCipheriv("aes-256-gcm", this.#current.key, iv);
    cipher.setAAD(Buffer.from(owner, "utf8"));
    const sealed = Buffer.concat([iv, cipher.update(json, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return this.currentPrefix + sealed.toString("base64url");
  }

  open(stored: string, owner: string): string {
    if (!stored.startsWith(MARK)) return stored;
    const dot = stored.indexOf(".", MARK.length);
    const id = stored.slice(MARK.length, dot);
    const key = this.#byId.get(id);
    if (key === undefined)
      throw new Error(
        `a stored value is sealed under the data key ${id}, which is not configured (add it to security.previous_data_keys)`,
      );
    const bytes = Buffer.from(stored.slice(dot + 1), "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key.key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(owner, "utf8"));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  }
}

/** A key's id: the first 8 bytes of its SHA-256, in hex (names the key, reveals nothing of it). */
function keyId(key: Buffer): string {
  return createHash("sha256").update("taskexec data key\0").update(key).digest("hex").slice(0, 16);
}

/** Whether `text` is a data key: 32 bytes in base64 (or base64url). */
export function isDataKey(text: string): boolean {
  return /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) && Buffer.from(text, "base64").length === KEY_BYTES;
}

/** A new data key: 32 random bytes, base64 (`taskexec keys new`). */
export function newDataKey(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

/**
 * The data keys the configuration names, current first: `security.data_key` (base64) or the first
 * line of `security.data_key_file`, then `security.previous_data_keys` and the file's other lines.
 * Undefined when none is set (values are stored in clear).
 */
export function dataKeysFrom(security: {
  data_key?: string | undefined;
  data_key_file?: string | undefined;
  previous_data_keys?: readonly string[] | undefined;
}): Buffer[] | undefined {
  const texts: { text: string; path: string }[] = [];
  if (security.data_key !== undefined) texts.push({ text: security.data_key, path: "security.data_key" });
  if (security.data_key_file !== undefined) {
    let content: string;
    try {
      content = readFileSync(security.data_key_file, "utf8");
    } catch (error) {
      throw new ConfigError([
        {
          path: "security.data_key_file",
          message: `cannot read ${security.data_key_file}: ${(error as Error).message}`,
        },
      ]);
    }
    const lines = content
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith("#"));
    for (const line of lines) texts.push({ text: line, path: "security.data_key_file" });
  }
  if (texts.length === 0) return undefined;
  for (const [i, text] of (security.previous_data_keys ?? []).entries())
    texts.push({ text, path: `security.previous_data_keys[${i}]` });
  return texts.map(({ text, path }) => {
    if (!isDataKey(text))
      throw new ConfigError([
        { path, message: `must be ${KEY_BYTES} random bytes in base64 (taskexec keys new prints one)` },
      ]);
    return Buffer.from(text, "base64");
  });
}
