import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const SECRET_FILE = "jwt-secret";
export const LOCAL_TOKEN_FILE = "cli-token";

/** Reads the generated JWT secret from the data directory; undefined when there is none yet. */
export function readSecret(dataDir: string): string | undefined {
  const file = join(dataDir, SECRET_FILE);
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

/** The data directory's secret, generated (mode 0600) on first use. Returns it and whether it is new. */
export function ensureSecret(dataDir: string): { secret: string; created: boolean } {
  const existing = readSecret(dataDir);
  if (existing !== undefined) return { secret: existing, created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString("base64url");
  writeSecretFile(join(dataDir, SECRET_FILE), secret);
  return { secret, created: true };
}

/** Writes a file only its owner can read. */
export function writeSecretFile(file: string, content: string): void {
  writeFileSync(file, `${content}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
