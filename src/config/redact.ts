import type { CompiledOptions } from "./options.js";

const REDACTED = "[redacted]";

/** Keys whose values are secrets, wherever in the configuration they are. */
const SECRET_KEYS = new Set([
  "jwt_secret",
  "token",
  "data_key",
  "previous_data_keys",
  "password",
  "private_key",
  "key_passphrase",
]);

/**
 * A copy of a configuration fit to print or log: every secret value replaced by `[redacted]`,
 * and the password of every URL (`store.url`, `message_broker_url`, …) too. Handlers print as
 * their type or module path.
 */
export function redactConfig(options: CompiledOptions): Record<string, unknown> {
  return redact({ ...options, handlers: options.handlers.map(String) }) as Record<string, unknown>;
}

function redact(value: unknown): unknown {
  if (typeof value === "string") return redactUrlPassword(value);
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      SECRET_KEYS.has(key) && inner !== undefined ? REDACTED : redact(inner),
    ]),
  );
}

/** `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`; other strings as they are. */
export function redactUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@/\s]*@/i, `$1:${REDACTED}@`);
}
