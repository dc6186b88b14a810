import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { TaskClient } from "../client/http-task-client.js";
import { LOCAL_TOKEN_FILE } from "../security/secret-file.js";

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

/** A client from flags, then environment, then the local server's token file. */
export function clientFrom(options: ConnectionOptions): TaskClient {
  const url = options.url ?? process.env.TASKEXEC_URL ?? DEFAULT_URL;
  let token = options.token ?? process.env.TASKEXEC_TOKEN;
  if (token === undefined) {
    const file = join(process.env.TASKEXEC_DATA_DIR ?? "data", LOCAL_TOKEN_FILE);
    if (existsSync(file)) token = readFileSync(file, "utf8").trim();
  }
  return new TaskClient({ url, token });
}
