import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { TaskClient } from "../client/url-task-client.js";
import { LOCAL_TOKEN_FILE } from "../security/secret-file.js";
import { UsageError } from "./cli-error.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** Adds `--url` and `--token` to a command that talks to a server. */
export function withConnection(command: Command): Command {
  return command
    .option("--url <url>", `server URL (env TASKEXEC_URL; default ${DEFAULT_URL})`)
    .option("--token <jwt>", "token (env TASKEXEC_TOKEN; default: the local server's data/cli-token)")
    .option("--json", "print JSON instead of text");
}

export interface ConnectionOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/**
 * Where the CLI looked for a token and found none, for the message of a 401: a newcomer's first
 * "unauthenticated" should say what to do, not just what went wrong.
 */
let missingTokenHint: string | undefined;

export function tokenHint(): string | undefined {
  return missingTokenHint;
}

/** A client from flags, then environment, then the local server's token file. */
export function clientFrom(options: ConnectionOptions, extra: { encrypt?: boolean } = {}): TaskClient {
  return new TaskClient({ ...connectionFrom(options), encrypt: extra.encrypt });
}

/** The server's URL and the token: from flags, then environment, then the local server's token file. */
export function connectionFrom(options: ConnectionOptions): { url: string; token: string | undefined } {
  const url = options.url || process.env.TASKEXEC_URL || DEFAULT_URL;
  const from = options.url ? "--url" : process.env.TASKEXEC_URL ? "TASKEXEC_URL" : undefined;
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url))
    throw new UsageError(
      `${from ?? "the server URL"}: must be a URL starting with http:// or https://, got "${url}"` +
        (/^[\w.-]+(:\d+)?(\/.*)?$/.test(url) ? ` (did you mean http://${url}?)` : ""),
    );
  let token = options.token || process.env.TASKEXEC_TOKEN || undefined;
  if (token === undefined) {
    const file = join(process.env.TASKEXEC_DATA_DIR ?? "data", LOCAL_TOKEN_FILE);
    if (existsSync(file)) token = readFileSync(file, "utf8").trim();
    else
      missingTokenHint =
        `no token found: looked at --token, TASKEXEC_TOKEN and ./${file} (which \`taskexec serve\` writes in ` +
        `the folder it runs in when it generated its own signing secret; not when auth.jwt_secret is set). ` +
        `Run the CLI from the server's folder, or pass --token: mint one with the server's secret, ` +
        `e.g. TASKEXEC_TOKEN=$(TASKEXEC_AUTH__JWT_SECRET=… taskexec token --sub you --role admin)`;
  }
  return { url, token };
}
