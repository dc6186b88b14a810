import { join } from "node:path";
import type { Command } from "commander";

import { loadConfig } from "../../config/load-config.js";
import { compileOptions } from "../../config/options.js";
import { redactUrlPassword } from "../../config/redact.js";
import { LOCAL_TOKEN_FILE } from "../../security/secret-file.js";
import { PROTOCOL_VERSION } from "../../protocol/version.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the embedded executor and its HTTP API in one process (SQLite; nothing else needed)")
    .option("-c, --config <file>", "config file (default: ./config.yaml if present; env TASKEXEC_CONFIG)")
    .option("--handlers <modules...>", "more handler modules to load, after config's")
    .action(async (options: { config?: string; handlers?: string[] }) => {
      const { options: loaded, file } = loadConfig({ file: options.config });
      const config = options.handlers
        ? compileOptions({ ...loaded, handlers: [...loaded.handlers, ...options.handlers] })
        : loaded;
      // Loaded here, not at start-up: the client commands should not pay for the server.
      const { startService } = await import("../../api/service.js");
      const service = await startService(config);
      const types = service.executor.engine.handlerTypes().join(", ");
      const lines = [
        `taskexec (protocol ${PROTOCOL_VERSION}) is serving at ${service.url}`,
        `  config    ${file ?? "defaults (no config.yaml)"}`,
        `  store     ${redactUrlPassword(config.store.url)}`,
        `  handlers  ${types}`,
        `  dashboard ${service.url}/`,
        `  docs      ${service.url}/docs`,
      ];
      const tokenFile = join(config.data_dir, LOCAL_TOKEN_FILE);
      if (service.adminToken !== undefined) {
        if (service.secretCreated)
          lines.push(
            "",
            `First start: generated a signing secret in ${config.data_dir}/jwt-secret (mode 0600).`,
          );
        lines.push(
          "",
          `An admin token (30 days) is in ${tokenFile} (mode 0600); the CLI on this machine reads it from there.`,
          "Mint more:  npx taskexec token --sub alice --role submitter --ttl 12h",
          `Try:        npx taskexec submit sleep --params '{"ms":3000}' --wait`,
        );
      }
      console.log(`${lines.join("\n")}\n`);
      // The token itself only on the first start, and only to a person at a terminal: stdout is
      // where logs go, and logs are collected, shipped and kept.
      if (service.adminToken !== undefined && service.secretCreated && process.stdout.isTTY)
        console.error(
          `Admin token, for the dashboard (shown once; also in ${tokenFile}):\n  ${service.adminToken}\n`,
        );
      const shutdown = (signal: string) => {
        console.log(`${signal}: stopping (running tasks get ${config.shutdown_grace_ms} ms to finish)`);
        service.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(`error while stopping: ${String(error)}`);
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
}
