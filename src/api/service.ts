import { QUEUES } from "../transport/amqp/topology.js";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { ConfigError } from "../config/config-error.js";
import type { CompiledOptions } from "../config/options.js";
import { createExecutorFromCompiled, type Executor } from "../executor.js";
import { executorSignatureCheck, MessageSigner, signingKey } from "../security/message-signature.js";
import { componentLogger, createLogger } from "../observability/logger.js";
import { ExecutorMetrics } from "../observability/metrics.js";
import { RecentActivity } from "../observability/recent-activity.js";
import { ensureSecret, LOCAL_TOKEN_FILE, writeSecretFile } from "../security/secret-file.js";
import { SubmissionGuard } from "../security/submission-guard.js";
import { signToken } from "../security/token-signer.js";
import { createTokenVerifier } from "../security/token-verifier.js";
import { buildApp } from "./app.js";
import { BrokerSubmissions } from "./broker-submissions.js";
import { listenAt } from "./listen.js";
import { Authenticator } from "./authenticator.js";
import { EventStreams } from "./sse.js";
import { TaskFeed } from "./task-feed.js";

export interface Service {
  url: string;
  app: FastifyInstance;
  executor: Executor;
  /** An admin token minted at start when the server signs its own tokens (also in data_dir/cli-token). */
  adminToken: string | undefined;
  /** True when this start generated the JWT secret (the first start). */
  secretCreated: boolean;
  /** Stops accepting, ends open streams, gives running tasks `graceMs`, and closes the store. */
  close(graceMs?: number): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * Starts the service (`taskexec serve`): the executor and its HTTP API on one process. Generates
 * a JWT secret into `data_dir` on the first start when none is configured, and refuses to listen
 * beyond loopback without authentication.
 */
export async function startService(
  options: CompiledOptions,
  /** `all` for `taskexec serve`; `admission` for `taskexec api` (distributed mode: runs no tasks). */
  role: "all" | "admission" = "all",
): Promise<Service> {
  if (!options.auth.enabled && !LOOPBACK.test(options.http.host)) {
    throw new ConfigError([
      {
        path: "http.host",
        message: `refusing to listen on ${options.http.host} with auth.enabled: false (use 127.0.0.1, or enable auth)`,
      },
    ]);
  }
  const log = createLogger({ ...options.logging, level: options.logging.level ?? "info" });
  const ownSecret =
    options.auth.enabled &&
    options.auth.jwt_secret === undefined &&
    options.auth.public_key === undefined &&
    options.auth.jwks_url === undefined;
  const { secret, created } = ownSecret
    ? ensureSecret(options.data_dir)
    : { secret: options.auth.jwt_secret, created: false };
  const https = readTls(options);

  const verifier = options.auth.enabled ? createTokenVerifier(options.auth, secret) : undefined;
  // Distributed mode: what goes on the broker is signed, each message for itself, with the
  // cluster's key (an executor's or this api's), and counts only when an executor signed it.
  const messageKey =
    options.auth.enabled && (options.security.signing_key_file ?? secret) !== undefined
      ? await signingKey({ file: options.security.signing_key_file, secret })
      : undefined;
  if (role === "admission" && options.auth.enabled && messageKey === undefined) {
    throw new ConfigError([
      {
        path: "security.signing_key_file",
        message:
          "the cluster signs what it publishes on the broker: with tokens checked by a public key or a JWKS, set an Ed25519 key file here (the same on the api and every worker)",
      },
    ]);
  }
  let signer: MessageSigner | undefined;
  const executor: Executor = await createExecutorFromCompiled(options, log, role, {
    sign:
      messageKey === undefined
        ? undefined
        : (message, use) =>
            (signer ??= new MessageSigner(
              messageKey,
              `api:${executor.node}`,
              ["executor"],
              options.security.message_window_ms,
            )).sign(message, use),
    verify:
      messageKey === undefined
        ? undefined
        : executorSignatureCheck(
            { keys: [messageKey.publicJwk] },
            {
              windowMs: options.security.message_window_ms,
              clockSkewS: options.auth.clock_tolerance_s,
            },
          ),
  });
  const engine = executor.engine;
  // The executors' encryption keys: read, or generated into data_dir, on the first start (the
  // library makes them only when asked for, so that an embedding writes no file it never needs).
  await executor.encryption?.load().catch(async (error: unknown) => {
    await executor.stop({ graceMs: 0 });
    throw error;
  });
  // Processes sharing a store count each principal's rate together (in the store).
  const guard = new SubmissionGuard(options.limits, { shared: engine.sharedSubmitAllowance() });
  const metrics = new ExecutorMetrics(engine, options.heartbeat_ms);
  executor.transports?.onRefused((from) => metrics.messageRefused(from));
  const activity = new RecentActivity();
  const feed = new TaskFeed();
  engine.observe(activity);
  engine.observe(feed);
  const closing = new AbortController();
  const app = await buildApp(
    {
      executor: engine,
      auth: new Authenticator(verifier),
      guard,
      metrics,
      activity,
      feed,
      options,
      streams: new EventStreams(
        {
          keepaliveMs: options.http.sse_keepalive_ms,
          maxStreams: options.http.max_streams,
          maxStreamsPerPrincipal: options.http.max_streams_per_principal,
          maxBufferedBytes: options.http.stream_buffer_bytes,
          stallMs: options.http.stream_stall_ms,
        },
        closing.signal,
      ),
      publicKeys: async () => [
        ...((await executor.encryption?.publicJwks()) ?? []),
        ...(messageKey === undefined ? [] : [messageKey.publicJwk]),
      ],
    },
    { log: componentLogger(log, "http"), https },
  );

  await executor.start();
  // Distributed mode: submissions come over the broker too, held to the same rules as over HTTP.
  const transports = executor.transports;
  const brokerDoor =
    transports === undefined
      ? undefined
      : await BrokerSubmissions.start(transports.connection, {
          executor: engine,
          verifier,
          guard,
          bus: transports.bus,
          prefetch: Math.min(1000, options.max_concurrent_tasks),
          bodyLimit: options.http.body_limit,
          onError: (error) => log.warn({ err: error }, "a broker submission was refused"),
          log: componentLogger(log, "submissions"),
          onDeadLettered: (reason) => metrics.deadLettered(QUEUES.submissions, reason),
        });
  if (brokerDoor !== undefined)
    engine.addReadinessCheck(() => {
      if (!brokerDoor.consuming)
        throw new Error("not consuming taskexec.submissions (the broker cancelled it)");
    });
  const url = await listenAt(
    app,
    { host: options.http.host, port: options.http.port, key: "http.port" },
    async () => {
      await brokerDoor?.stop();
      await executor.stop({ graceMs: 0 });
    },
    https ? "https" : "http",
  );

  let adminToken: string | undefined;
  if (ownSecret && secret !== undefined) {
    adminToken = await signToken(secret, { sub: "admin", roles: ["admin"], ttl: "30d" });
    writeSecretFile(join(options.data_dir, LOCAL_TOKEN_FILE), adminToken);
  }

  let closed: Promise<void> | undefined;
  return {
    url,
    app,
    executor,
    adminToken,
    secretCreated: created,
    close: (graceMs = options.shutdown_grace_ms) =>
      (closed ??= (async () => {
        closing.abort();
        await brokerDoor?.stop();
        await app.close();
        await executor.stop({ graceMs });
      })()),
  };
}

function readTls(options: CompiledOptions): { key: Buffer; cert: Buffer } | undefined {
  const { cert, key } = options.tls;
  if (cert === undefined || key === undefined) return undefined;
  try {
    return { cert: readFileSync(resolve(cert)), key: readFileSync(resolve(key)) };
  } catch (error) {
    throw new ConfigError([
      { path: "tls", message: `cannot read the certificate or key: ${(error as Error).message}` },
    ]);
  }
}
