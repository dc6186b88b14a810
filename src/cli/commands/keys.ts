import { join } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { addEncryptionKey, ENCRYPTION_KEYS_FILE } from "../../security/encryption-keys.js";
import { EXIT, UsageError } from "../cli-error.js";

interface KeysOptions {
  config?: string;
  json?: boolean;
  encryption?: boolean;
}

/**
 * `taskexec keys rotate`: new keys for new writes, the old ones kept for what they made.
 * `--encryption`: a new current RSA key for message-level encryption (SPEC §6) in the executors'
 * key file; submitters encrypt for it once they fetch `GET /v1/keys` again (it says 5 minutes),
 * and the older keys stay listed, and still decrypt, until they are removed from the file.
 */
export function registerKeys(program: Command, run: (code: number) => void): void {
  const keys = program.command("keys").description("rotate the keys of message-level encryption");
  keys
    .command("rotate")
    .description("make a new current key; the older ones still decrypt")
    .option("-c, --config <file>", "config file (default: ./config.yaml if present)")
    .option(
      "--encryption",
      "a new RSA key for message-level encryption, first in security.encryption_key_file (or data_dir's encryption-keys.json); restart the processes that admit submissions",
    )
    .option("--json", "print JSON")
    .action(async (options: KeysOptions) => {
      if (options.encryption !== true)
        throw new UsageError(
          "say which keys to rotate: --encryption (the executors' RSA key for JWE submissions)",
        );
      const { options: config } = loadConfig({ file: options.config });
      const file = config.security.encryption_key_file ?? join(config.data_dir, ENCRYPTION_KEYS_FILE);
      const kid = await addEncryptionKey(file);
      if (options.json) console.log(JSON.stringify({ file, kid }));
      else
        console.log(
          `a new current encryption key ${kid} is first in ${file}\n` +
            "restart the processes that admit submissions (serve, api) to serve it at GET /v1/keys; " +
            "remove an old key from the file once no submitter may still encrypt for it",
        );
      run(EXIT.ok);
    });
}
