import { join } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { addEncryptionKey, ENCRYPTION_KEYS_FILE } from "../../security/encryption-keys.js";
import { newDataKey } from "../../security/data-cipher.js";
import type { ResealCursor, ResealStep } from "../../store/reseal.js";
import { EXIT, UsageError } from "../cli-error.js";
import { type ConnectionOptions, connectionFrom } from "../connection.js";

interface KeysOptions extends ConnectionOptions {
  config?: string;
  encryption?: boolean;
  data?: boolean;
  batch?: string;
}

/**
 * `taskexec keys new|rotate`: new keys for new writes, the old ones kept for what they made.
 *
 * - `new`: prints a fresh data key (32 random bytes, base64) for `security.data_key`.
 * - `rotate --data`: once every process runs with a new `security.data_key` and the old one in
 *   `security.previous_data_keys`, has the running server seal everything stored under the new
 *   key, a batch at a time (`POST /v1/keys/reseal`, admin), while it goes on working; the old key
 *   can then be dropped.
 * - `rotate --encryption`: a new current RSA key for message-level encryption (SPEC §6) in the
 *   executors' key file; submitters encrypt for it once they fetch `GET /v1/keys` again (it says 5
 *   minutes), and the older keys stay listed, and still decrypt, until removed from the file.
 */
export function registerKeys(program: Command, run: (code: number) => void): void {
  const keys = program
    .command("keys")
    .description("make and rotate the keys of encryption at rest and of message-level encryption");
  keys
    .command("new")
    .description("print a new data key (32 random bytes, base64) for security.data_key")
    .action(() => {
      console.log(newDataKey());
      run(EXIT.ok);
    });
  keys
    .command("rotate")
    .description(
      "seal what is stored under the current data key (--data), or make a new message encryption key (--encryption)",
    )
    .option("-c, --config <file>", "config file (default: ./config.yaml if present)")
    .option(
      "--data",
      "have the running server seal every stored value under security.data_key, in batches, while it runs (the old key stays in security.previous_data_keys until this is done)",
    )
    .option("--batch <n>", "rows per batch with --data", "500")
    .option(
      "--encryption",
      "a new RSA key for message-level encryption, first in security.encryption_key_file (or data_dir's encryption-keys.json); restart the processes that admit submissions",
    )
    .option("--url <url>", "with --data: the server URL (env TASKEXEC_URL; default http://127.0.0.1:8080)")
    .option(
      "--token <jwt>",
      "with --data: an admin token (env TASKEXEC_TOKEN; default: the local server's data/cli-token)",
    )
    .option("--json", "print JSON")
    .action(async (options: KeysOptions) => {
      if (options.data === true && options.encryption === true)
        throw new UsageError("rotate one kind of key at a time: --data or --encryption");
      if (options.data === true) {
        run(await resealAll(options));
        return;
      }
      if (options.encryption !== true)
        throw new UsageError(
          "say which keys to rotate: --data (seal what is stored under security.data_key) or --encryption (the executors' RSA key for JWE submissions)",
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

/** Calls the server's reseal step until it says everything is sealed under the current key. */
async function resealAll(options: KeysOptions): Promise<number> {
  const batch = Number(options.batch ?? "500");
  if (!Number.isInteger(batch) || batch < 1 || batch > 10_000)
    throw new UsageError(`--batch: a whole number from 1 to 10000, got "${options.batch}"`);
  const { url, token } = connectionFrom(options);
  let cursor: ResealCursor | null = null;
  let rewritten = 0;
  let steps = 0;
  do {
    let answer: Response;
    try {
      answer = await fetch(`${url.replace(/\/+$/, "")}/v1/keys/reseal`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ cursor, limit: batch }),
      });
    } catch (error) {
      console.error(`cannot reach ${url}: ${(error as Error).message}`);
      return EXIT.failed;
    }
    const body = (await answer.json().catch(() => ({}))) as ResealStep & {
      error?: { code: string; message: string };
    };
    if (!answer.ok) {
      console.error(
        `the server refused (${body.error?.code ?? answer.status}): ${body.error?.message ?? answer.statusText}`,
      );
      return EXIT.failed;
    }
    rewritten += body.rewritten;
    cursor = body.cursor;
    steps += 1;
    if (!options.json && steps % 20 === 0) console.error(`… ${rewritten} values sealed again so far`);
  } while (cursor !== null);
  if (options.json) console.log(JSON.stringify({ rewritten, batches: steps }));
  else
    console.log(
      `${rewritten} stored values sealed again under the current data key, in ${steps} batches; ` +
        "the keys in security.previous_data_keys are no longer needed",
    );
  return EXIT.ok;
}
