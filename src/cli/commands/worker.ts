import type { Command } from "commander";
import { compileOptions } from "../../config/options.js";
import { redactUrlPassword } from "../../config/redact.js";
import { PROTOCOL_VERSION } from "../../protocol/version.js";
import { serviceConfig, stopOnSignals } from "./serve.js";

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "distributed mode: run tasks taken from the broker (PostgreSQL + RabbitMQ); HTTP only for /healthz, /readyz, /metrics",
    )
    .option("-c, --config <file>", "config file (default: ./config.yaml if present; env TASKEXEC_CONFIG)")
    .option("--handlers <modules...>", "more handler modules to load, after config's")
    .option(
      "--port <port>",
      "the port of /healthz, /readyz and /metrics (default: worker.port, else 8081 or a free one if taken; 0: any free one)",
    )
    .action(async (flags: { config?: string; handlers?: string[]; port?: string }) => {
      const loaded = serviceConfig(flags);
      const file = loaded.file;
      const config =
        flags.port === undefined
          ? loaded.config
          : compileOptions({
              ...loaded.config,
              worker: { ...loaded.config.worker, port: Number(flags.port) },
            });
      const { startWorker } = await import("../../api/worker-service.js");
      const worker = await startWorker(config);
      const engine = worker.executor.engine;
      const resources = engine.resources()[0]!;
      const lines = [
        `taskexec worker (protocol ${PROTOCOL_VERSION}) ${engine.node} is taking work`,
        `  config    ${file ?? "defaults (no config.yaml)"}`,
        `  store     ${redactUrlPassword(config.store.url)}`,
        `  broker    ${redactUrlPassword(config.message_broker_url ?? "")}`,
        `  handlers  ${engine.handlerTypes().join(", ")}`,
        `  resources ${Object.entries(resources.capacity)
          .map(([kind, amount]) => `${kind} ${amount}`)
          .join(", ")}`,
        `  health    ${worker.url}/healthz, ${worker.url}/readyz, ${worker.url}/metrics`,
      ];
      console.log(`${lines.join("\n")}\n`);
      stopOnSignals(() => worker.close(), config.shutdown_grace_ms);
    });
}
