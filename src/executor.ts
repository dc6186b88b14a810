import { ClientEncryption, type ClientEncryptionOptions } from "./client/client-encryption.js";
import { LocalTaskClient } from "./client/local-task-client.js";
import type { TaskClientApi } from "./client/task-client.js";
import { realClock } from "./clock/clock.js";
import { TimerQueue } from "./clock/timer-queue.js";
import { ConfigError } from "./config/config-error.js";
import { type CompiledOptions, compileOptions, type ExecutorOptions } from "./config/options.js";
import { applyAllocationSitePretenuring } from "./engine/allocation-site-pretenuring.js";
import { EngineContext } from "./engine/engine-context.js";
import { newNodeId } from "./engine/node-identity.js";
import { type ExecutorLifecycle, type ExecutorRole, TaskExecutor } from "./engine/task-executor.js";
import { builtinHandlers } from "./handlers/builtin/builtin-handlers.js";
import { type AnyTaskHandler, isHandler } from "./handlers/handler.js";
import { loadHandlerModules } from "./handlers/load-modules.js";
import { HandlerRegistry } from "./handlers/registry.js";
import { componentLogger, createLogger, type Logger } from "./observability/logger.js";
import { LifecycleLog } from "./observability/lifecycle-log.js";
import { DataCipher, dataKeysFrom } from "./security/data-cipher.js";
import { EncryptionKeys } from "./security/encryption-keys.js";
import { ResourceManager, type ResourceSnapshot } from "./resources/resource-manager.js";
import { DeadWorkerEnds } from "./engine/dead-worker-ends.js";
import { StoreConfigError } from "./store/errors.js";
import { openStore } from "./store/open-store.js";
import {
  beaconResources,
  checkDistributedConfig,
  closeDistributed,
  type DistributedTransports,
  listenToCluster,
  openDistributedTransports,
  workerAccepts,
} from "./distributed.js";
import { MemoryStatusBus } from "./transport/memory/memory-status-bus.js";
import type { StatusBus } from "./transport/status-bus.js";
import type { StatusFeed } from "./transport/status-feed.js";
import { openStoreTransports } from "./transport/open-transport.js";
import type { SignMessage, VerifyMessage } from "./transport/amqp/message-proof.js";
import type { WorkSignal } from "./transport/work-signal.js";

/** A running (or ready to run) task executor. Make one with {@link createExecutor}. */
export class Executor {
  /** @internal the engine, for the HTTP API and CLI of this package. */
  readonly engine: TaskExecutor;
  readonly options: CompiledOptions;
  /** @internal distributed mode's broker side (undefined in the other modes). */
  readonly transports: DistributedTransports | undefined;
  /**
   * @internal the executors' keys for message-level encryption (`GET /v1/keys`), where this
   * process admits submissions (not on a `taskexec worker`).
   */
  readonly encryption: EncryptionKeys | undefined;
  readonly #afterStart: (() => void) | undefined;
  readonly #afterStop: (() => Promise<void>) | undefined;

  /** @internal use {@link createExecutor}. */
  constructor(
    engine: TaskExecutor,
    options: CompiledOptions,
    distributed?: {
      transports: DistributedTransports;
      afterStart?: () => void;
      afterStop: () => Promise<void>;
    },
    encryption?: EncryptionKeys,
  ) {
    this.engine = engine;
    this.options = options;
    this.encryption = encryption;
    this.transports = distributed?.transports;
    this.#afterStart = distributed?.afterStart;
    this.#afterStop = distributed?.afterStop;
  }

  /** `created`, `starting`, `running`, `stopping` or `stopped`. */
  get state(): ExecutorLifecycle {
    return this.engine.state;
  }

  /** This executor's node name, as statuses and resource views show it. */
  get node(): string {
    return this.engine.node;
  }

  /** Registers a handler (made with `defineHandler`); a second one for a type throws. */
  register(handler: AnyTaskHandler): this {
    this.engine.register(handler);
    return this;
  }

  /** Recovers unfinished work from the store, then starts running tasks. */
  async start(): Promise<void> {
    await this.engine.start();
    this.#afterStart?.();
  }

  /** Stops: running tasks get `graceMs` (default `shutdown_grace_ms`) to finish, the rest are requeued. */
  async stop(options?: { graceMs?: number }): Promise<void> {
    const wasRunning = this.engine.state !== "stopped";
    await this.engine.stop(options);
    if (wasRunning) await this.#afterStop?.();
  }

  /**
   * An in-process client. It acts as `principal` (default: the `principal` option) and sees
   * only that principal's tasks unless `admin` is true.
   */
  client(options: { principal?: string; admin?: boolean } & ClientEncryptionOptions = {}): TaskClientApi {
    const keys = this.encryption;
    return new LocalTaskClient(
      this.engine,
      { id: options.principal ?? this.options.principal, admin: options.admin ?? false },
      // Under security.require_encryption, the in-process client encrypts too (it is held to it).
      keys === undefined
        ? undefined
        : new ClientEncryption(() => keys.publicJwks(), {
            encrypt: options.encrypt ?? this.options.security.require_encryption,
            resultKey: options.resultKey,
          }),
    );
  }

  /** This node's resources: capacity, allocated, free, running and waiting tasks. */
  resources(): ResourceSnapshot[] {
    return this.engine.resources();
  }
}

/**
 * Creates an executor from options (the keys of `config.yaml`, as an object): opens and
 * migrates the store, loads the handlers, and returns it ready to `start()`.
 *
 * @throws ConfigError for options that cannot work, naming each key.
 */
export async function createExecutor(options: ExecutorOptions = {}): Promise<Executor> {
  return createExecutorFromCompiled(compileOptions(options));
}

/**
 * @internal how a process of distributed mode signs what it publishes on the broker (statuses,
 * heartbeats, work), and checks what it hears came from an executor.
 */
export interface BrokerAuth {
  sign?: SignMessage | undefined;
  verify?: VerifyMessage | undefined;
}

/**
 * @internal {@link createExecutor} for options already compiled (the service's config file). `role`
 * is `all` for `serve` and the library; `admission` (`taskexec api`) and `worker` (`taskexec
 * worker`) are distributed mode's two sides, on PostgreSQL and the broker.
 */
export async function createExecutorFromCompiled(
  compiled: CompiledOptions,
  log?: Logger,
  role: ExecutorRole = "all",
  brokerAuth: BrokerAuth = {},
): Promise<Executor> {
  if (role === "all" && compiled.mode === "distributed") {
    throw new ConfigError([
      {
        path: "mode",
        message: "distributed mode runs as `taskexec api` and `taskexec worker` processes, not `serve`",
      },
    ]);
  }
  if (role !== "all") checkDistributedConfig(compiled, role === "worker" ? "worker" : "api");
  applyAllocationSitePretenuring(compiled.allocation_site_pretenuring);
  const registry = new HandlerRegistry();
  for (const handler of builtinHandlers(compiled.builtins)) registry.register(handler);
  const paths = compiled.handlers.filter((h): h is string => typeof h === "string");
  const objects = compiled.handlers.filter((h) => typeof h !== "string");
  const notHandlers = compiled.handlers.flatMap((h, i) => (typeof h === "string" || isHandler(h) ? [] : [i]));
  if (notHandlers.length > 0)
    throw new ConfigError(
      notHandlers.map((i) => ({
        path: `handlers[${i}]`,
        message: "must be a module path or a handler made with defineHandler()",
      })),
    );
  for (const handler of [...objects, ...(await loadHandlerModules(paths))]) registry.register(handler);

  const encryption =
    role === "worker"
      ? undefined
      : new EncryptionKeys({ file: compiled.security.encryption_key_file, dataDir: compiled.data_dir });
  // A key file named in the configuration is read at start, so that a bad one stops it there.
  if (encryption !== undefined && compiled.security.encryption_key_file !== undefined)
    await encryption.load();

  // Embedded in an application, quiet unless asked: its stdout is the application's.
  log ??=
    compiled.logger ??
    createLogger({
      ...compiled.logging,
      level: compiled.logging.level ?? "warn",
      format: compiled.logging.format ?? "json",
    });
  const node = compiled.node_id ?? newNodeId();
  const storeLog = componentLogger(log, "store");
  // Told to the engine's observers (metrics) once there is an engine.
  const reconnecting = { to: (_to: "database" | "broker") => {} };
  const lostConnection = (error: Error) => {
    reconnecting.to("database");
    storeLog.warn({ err: error }, "lost a database connection; reconnecting");
  };
  // The store announces new work on the signal, which is opened once the store is (and so
  // before anything is submitted).
  const announce: { to?: WorkSignal } = {};
  const dataKeys = dataKeysFrom(compiled.security);
  const store = await openStore(compiled.store, {
    node,
    seal: dataKeys === undefined ? undefined : new DataCipher(dataKeys),
    outbox: role !== "all",
    onReady: (ready) => announce.to?.ready(ready),
    onMigrated: ({ from, applied }) =>
      storeLog.info(
        { from: from ?? "empty", applied },
        from === undefined ? "created the store's schema" : "migrated the store's schema up",
      ),
    onConnectionError: lostConnection,
  }).catch((error: unknown) => {
    if (error instanceof StoreConfigError) {
      const [path, ...rest] = error.message.split(": ");
      throw new ConfigError([{ path: path ?? "store.url", message: rest.join(": ") }]);
    }
    throw error;
  });
  const timers = new TimerQueue(realClock);
  const resources = new ResourceManager({ node, capacity: compiled.resources, timers });
  let distributed: DistributedTransports | undefined;
  let transports: { work: WorkSignal; others: StatusFeed | undefined; bus: StatusBus };
  try {
    if (role === "all") {
      const opened = await openStoreTransports(compiled.store.url, {
        node,
        read: store.observeStatuses?.bind(store),
        onError: lostConnection,
      });
      const bus = new MemoryStatusBus((error) => log.error({ err: error }, "a status listener threw"));
      transports = { ...opened, bus };
    } else {
      distributed = await openDistributedTransports({
        options: compiled,
        role,
        node,
        store,
        log: componentLogger(log, "broker"),
        ...brokerAuth,
        accepts: role === "worker" ? workerAccepts(registry, resources) : undefined,
        onBrokerLost: () => reconnecting.to("broker"),
      });
      transports = distributed;
    }
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  const { work, others, bus } = transports;
  announce.to = work;
  const ctx = new EngineContext(
    compiled,
    node,
    store,
    bus,
    work,
    others,
    resources,
    registry,
    timers,
    realClock,
    componentLogger(log, "engine"),
  );
  ctx.encryption = encryption;
  reconnecting.to = (to) => {
    for (const observer of ctx.observers) observer.onReconnecting?.(to);
  };
  if (distributed === undefined) {
    const engine = new TaskExecutor(ctx, { ownsStore: true });
    engine.observe(new LifecycleLog(ctx.log));
    if (store.checkSchema !== undefined) engine.addReadinessCheck(() => store.checkSchema!());
    return new Executor(engine, compiled, undefined, encryption);
  }
  const parts = distributed;
  let stopSide: () => void | Promise<void> = () => {};
  let startSide: (() => void) | undefined;
  if (role === "admission") {
    const cluster = await listenToCluster({
      feed: parts.resources,
      store,
      options: compiled,
      log: componentLogger(log, "broker"),
    });
    ctx.cluster = cluster.placement;
    const ends = await DeadWorkerEnds.start({
      store,
      bus,
      cluster: ctx.cluster,
      heartbeatMs: compiled.heartbeat_ms,
      log: ctx.log,
    });
    stopSide = async () => {
      cluster.stop();
      await ends.stop();
    };
  } else {
    // Heard by the cluster only once started: a worker that cannot start (its health port taken,
    // the store refusing it) is never announced as one that takes work.
    startSide = () => {
      stopSide = beaconResources({
        feed: parts.resources,
        node,
        bootId: ctx.bootId,
        resources,
        registry,
        heartbeatMs: compiled.heartbeat_ms,
        log: componentLogger(log, "broker"),
      });
    };
  }
  const engine = new TaskExecutor(ctx, { ownsStore: false, role });
  engine.observe(new LifecycleLog(ctx.log));
  if (store.checkSchema !== undefined) engine.addReadinessCheck(() => store.checkSchema!());
  engine.addReadinessCheck(() => {
    if (!parts.connection.connected) throw new Error("the broker is not connected");
    if (!parts.consuming()) throw new Error("not consuming taskexec.tasks (the broker cancelled it)");
  });
  return new Executor(
    engine,
    compiled,
    {
      transports: parts,
      afterStart: startSide,
      afterStop: async () => {
        await stopSide();
        await closeDistributed(parts, store);
      },
    },
    encryption,
  );
}
