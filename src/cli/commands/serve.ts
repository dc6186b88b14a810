import { join } from "node:path";
import type { Command } from "commander";

import { loadConfig } from "../../config/load-config.js";
import { type CompiledOptions, compileOptions } from "../../config/options.js";
import { redactUrlPassword } from "../../config/redact.js";
import { LOCAL_TOKEN_FILE } from "../../security/secret-file.js";
import { PROTOCOL_VERSION } from "../../protocol/version.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the embedded executor and its HTTP API in one process (SQLite; nothing else needed)")
    .option("-c, --config <file>", "config file (default: ./config.yaml if present; env TASKEXEC_CONFIG)")
    .option("--handlers <modules...>", "more handler modules to load, after config's")
    .action((options: ServeFlags) => runService("serve", options));
  program
    .command("api")
    .description(
      "distributed mode: the HTTP API, the dashboard and the broker's submissions (PostgreSQL + RabbitMQ); runs no tasks",
    )
    .option("-c, --config <file>", "config file (default: ./config.yaml if present; env TASKEXEC_CONFIG)")
    .option(
      "--handlers <modules...>",
      "handler modules whose parameter schemas the API checks (they run on workers)",
    )
    .action((options: ServeFlags) => runService("api", options));
}

interface ServeFlags {
  config?: string;
  handlers?: string[];
}

/** Loads the config (with `--handlers` added) for a command that serves. */
export function serviceConfig(flags: ServeFlags): { config: CompiledOptions; file: string | undefined } {
  const { options: loaded, file } = loadConfig({ file: flags.config });
  const config = flags.handlers
    ? compileOptions({ ...loaded, handlers: [...loaded.handlers, ...flags.handlers] })
    : loaded;
  return { config, file };
}

/** Stops the service on SIGTERM or SIGINT, then exits (1 when stopping failed). */
export function stopOnSignals(close: () => Promise<void>, graceMs: number): void {
  const shutdown = (signal: string) => {
    console.log(`${signal}: stopping (running tasks get ${graceMs} ms to finish)`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

async function runService(command: "serve" | "api", flags: ServeFlags): Promise<void> {
  const { config, file } = serviceConfig(flags);
  // Loaded here, not at start-up: the client commands should not pay for the server.
  const { startService } = await import("../../api/service.js");
  const service = await startService(config, command === "api" ? "admission" : "all");
  const engine = service.executor.engine;
  const lines = [
    command === "api"
      ? `taskexec api (protocol ${PROTOCOL_VERSION}, distributed mode) is serving at ${service.url}`
      : `taskexec (protocol ${PROTOCOL_VERSION}) is serving at ${service.url}`,
    `  config    ${file ?? "defaults (no config.yaml)"}`,
    `  store     ${redactUrlPassword(config.store.url)}`,
    ...(command === "api"
      ? [`  broker    ${redactUrlPassword(config.message_broker_url ?? "")}`]
      : [`  handlers  ${engine.handlerTypes().join(", ")}`]),
    `  dashboard ${service.url}/`,
    `  docs      ${service.url}/docs`,
  ];
  const tokenFile = join(config.data_dir, LOCAL_TOKEN_FILE);
  if (service.adminToken !== undefined) {
    if (service.secretCreated)
      lines.push("", `First start: generated a signing secret in ${config.data_dir}/jwt-secret (mode 0600).`);
    lines.push(
      "",
      `An admin token (30 days) is in ${tokenFile} (mode 0600); the CLI on this machine reads it from there.`,
      "Mint more:  npx taskexec token --sub alice --role submitter --ttl 12h",
      `Try:        npx taskexec submit sleep --params '{"ms":3000}' --wait`,
    );
  } else if (config.auth.enabled && config.auth.jwt_secret !== undefined) {
    // The secret is the operator's (config or TASKEXEC_AUTH__JWT_SECRET): no token file is written.
    lines.push(
      "",
      "Tokens are signed with auth.jwt_secret (no token file is written). Mint one with the same secret:",
      "  export TASKEXEC_TOKEN=$(npx taskexec token --sub admin --role admin --ttl 12h)",
      "  (run it with the same config.yaml or TASKEXEC_AUTH__JWT_SECRET as this server)",
    );
  }
  console.log(`${lines.join("\n")}\n`);
  // The token itself only on the first start, and only to a person at a terminal: stdout is
  // where logs go, and logs are collected, shipped and kept.
  if (service.adminToken !== undefined && service.secretCreated && process.stdout.isTTY)
    console.error(
      `Admin token, for the dashboard (shown once; also in ${tokenFile}):\n  ${service.adminToken}\n`,
    );
  stopOnSignals(() => service.close(), config.shutdown_grace_ms);
}
