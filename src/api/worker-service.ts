import type { FastifyInstance } from "fastify";
import { ConfigError } from "../config/config-error.js";
import type { CompiledOptions } from "../config/options.js";
import { type BrokerAuth, createExecutorFromCompiled, type Executor } from "../executor.js";
import { createLogger } from "../observability/logger.js";
import { ExecutorMetrics } from "../observability/metrics.js";
import { executorSignatureCheck, MessageSigner, signingKey } from "../security/message-signature.js";
import { readSecret } from "../security/secret-file.js";
import { listenAt, type ListenAddress } from "./listen.js";
import { buildWorkerApp } from "./worker-endpoints.js";

export interface WorkerService {
  /** Where `/healthz`, `/readyz` and `/metrics` answer. */
  url: string;
  app: FastifyInstance;
  executor: Executor;
  /** Stops taking work, gives running tasks `graceMs`, hands the rest back, and closes. */
  close(graceMs?: number): Promise<void>;
}

/** The worker's own health port (`worker.*`): its default gives way to a free port when taken. */
export const WORKER_DEFAULT_PORT = 8081;

function workerAddress(options: CompiledOptions): ListenAddress {
  const { host = options.http.host, port } = options.worker;
  return { host, port: port ?? WORKER_DEFAULT_PORT, key: "worker.port", anyPortIfTaken: port === undefined };
}

/**
 * Starts a worker (`taskexec worker`, distributed mode): takes work from `taskexec.tasks`, runs
 * it with its handlers, publishes its statuses (each signed for itself as role `executor`) and its
 * resources, keeps the clockwork (retries, deadlines, lost leases), and answers only health and
 * metrics over HTTP.
 */
export async function startWorker(options: CompiledOptions): Promise<WorkerService> {
  const log = createLogger({ ...options.logging, level: options.logging.level ?? "info" });
  let auth: BrokerAuth = {};
  if (options.auth.enabled) {
    // A worker signs with the cluster's key: its own file, or derived from the secret the api
    // checks tokens with (on one machine, the api's generated data_dir/jwt-secret serves too).
    const secret = options.auth.jwt_secret ?? readSecret(options.data_dir);
    const file = options.security.signing_key_file;
    if (secret === undefined && file === undefined) {
      throw new ConfigError([
        {
          path: "auth.jwt_secret",
          message:
            "a worker signs what it publishes with the cluster's key: set the api's secret here (or security.signing_key_file, or run the worker with the api's data_dir, or auth.enabled: false on loopback)",
        },
      ]);
    }
    const key = await signingKey({ file, secret });
    const window = options.security.message_window_ms;
    // Named after the node, known once the executor is made (signing starts with the first status).
    let signer: MessageSigner | undefined;
    auth = {
      sign: (message, use) =>
        (signer ??= new MessageSigner(key, `worker:${executor.node}`, ["executor"], window)).sign(
          message,
          use,
        ),
      verify: executorSignatureCheck(
        { keys: [key.publicJwk] },
        {
          windowMs: options.security.message_window_ms,
          clockSkewS: options.auth.clock_tolerance_s,
        },
      ),
    };
  }
  const executor: Executor = await createExecutorFromCompiled(options, log, "worker", auth);
  const metrics = new ExecutorMetrics(executor.engine, options.heartbeat_ms);
  executor.transports?.onRefused((from) => metrics.messageRefused(from));
  const app = buildWorkerApp({ executor: executor.engine, metrics, options, log });
  // Listens before it takes work: a port it cannot have stops it before it runs anything.
  const url = await listenAt(app, workerAddress(options), () => executor.stop({ graceMs: 0 }));
  try {
    await executor.start();
  } catch (error) {
    await app.close();
    await executor.stop({ graceMs: 0 }).catch(() => {});
    throw error;
  }
  log.info({ url }, "health and metrics are served");
  let closed: Promise<void> | undefined;
  return {
    url,
    app,
    executor,
    close: (graceMs = options.shutdown_grace_ms) =>
      (closed ??= (async () => {
        await app.close();
        await executor.stop({ graceMs });
      })()),
  };
}
