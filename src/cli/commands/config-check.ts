import type { Command } from "commander";
import { ConfigError } from "../../config/config-error.js";
import { loadConfig } from "../../config/load-config.js";
import { redactConfig, redactUrlPassword } from "../../config/redact.js";
import { EXIT } from "../cli-error.js";

export function registerConfig(program: Command, run: (code: number) => void): void {
  program
    .command("config")
    .description("configuration tools")
    .command("check")
    .description("check a config file (and TASKEXEC_* overrides); print each problem with its key")
    .option("-c, --config <file>", "config file (default: ./config.yaml if present)")
    .option("--json", "print JSON")
    .action((options: { config?: string; json?: boolean }) => {
      try {
        const { options: config, file } = loadConfig({ file: options.config });
        if (options.json)
          console.log(
            JSON.stringify({ ok: true, file: file ?? null, config: redactConfig(config) }, null, 2),
          );
        else
          console.log(
            `ok: ${file ?? "no config file; defaults and TASKEXEC_* variables"} (store ${redactUrlPassword(config.store.url)}, http ${config.http.host}:${config.http.port})`,
          );
        run(EXIT.ok);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (options.json) console.log(JSON.stringify({ ok: false, problems: error.problems }, null, 2));
        else console.error(error.message);
        run(EXIT.failed);
      }
    });
}
