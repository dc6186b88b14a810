import { LocalTaskClient } from "./client/local-task-client.js";
import type { TaskClientApi } from "./client/task-client.js";
import { realClock } from "./clock/clock.js";
import { TimerQueue } from "./clock/timer-queue.js";
import { ConfigError } from "./config/config-error.js";
import { type CompiledOptions, compileOptions, type ExecutorOptions } from "./config/options.js";
import { applyAllocationSitePretenuring } from "./engine/allocation-site-pretenuring.js";
import { EngineContext } from "./engine/engine-context.js";
import { newNodeId } from "./engine/node-identity.js";
import { type ExecutorLifecycle, TaskExecutor } from "./engine/task-executor.js";
import { builtinHandlers } from "./handlers/builtin/builtin-handlers.js";
import { type AnyTaskHandler, isHandler } from "./handlers/handler.js";
import { loadHandlerModules } from "./handlers/load-modules.js";
import { HandlerRegistry } from "./handlers/registry.js";
import { createLogger, type Logger } from "./observability/logger.js";
import { ResourceManager, type ResourceSnapshot } from "./resources/resource-manager.js";
import { StoreConfigError } from "./store/errors.js";
import { openStore } from "./store/open-store.js";
import { MemoryStatusBus } from "./transport/memory/memory-status-bus.js";
import { openStoreTransports } from "./transport/open-transport.js";
import type { WorkSignal } from "./transport/work-signal.js";

/** A running (or ready to run) task executor. Make one with {@link createExecutor}. */
export class Executor {
  /** @internal the engine, for the HTTP API and CLI of this package. */
  readonly engine: TaskExecutor;
  readonly options: CompiledOptions;

  /** @internal use {@link createExecutor}. */
  constructor(engine: TaskExecutor, options: CompiledOptions) {
    this.engine = engine;
    this.options = options;
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
  start(): Promise<void> {
    return this.engine.start();
  }

  /** Stops: running tasks get `graceMs` (default `shutdown_grace_ms`) to finish, the rest are requeued. */
  stop(options?: { graceMs?: number }): Promise<void> {
    return this.engine.stop(options);
  }

  /**
   * An in-process client. It acts as `principal` (default: the `principal` option) and sees
   * only that principal's tasks unless `admin` is true.
   */
  client(options: { principal?: string; admin?: boolean } = {}): TaskClientApi {
    return new LocalTaskClient(this.engine, {
      id: options.principal ?? this.options.principal,
      admin: options.admin ?? false,
    });
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

/** @internal {@link createExecutor} for options already compiled (the service's config file). */
export async function createExecutorFromCompiled(compiled: CompiledOptions, log?: Logger): Promise<Executor> {
  if (compiled.mode === "distributed") {
    throw new ConfigError([
      { path: "mode", message: "distributed mode is not available in this version yet" },
    ]);
  }
  applyAllocationSitePretenuring(compiled.allocation_site_pretenuring);
  const registry = new HandlerRegistry();
  for (const handler of builtinHandlers(compiled.builtins)) registry.register(handler);
  const paths = compiled.handlers.filter((h): h is string => typeof h === "string");
  const objects = compiled.handlers.filter(isHandler);
  for (const handler of [...objects, ...(await loadHandlerModules(paths))]) registry.register(handler);

  // Embedded in an application, quiet unless asked: its stdout is the application's.
  log ??= compiled.logger ?? createLogger({ level: compiled.logging.level ?? "warn" });
  const node = compiled.node_id ?? newNodeId();
  const storeLog = log;
  const lostConnection = (error: Error) =>
    storeLog.warn({ err: error }, "lost a database connection; reconnecting");
  // The store announces new work on the signal, which is opened once the store is (and so
  // before anything is submitted).
  const announce: { to?: WorkSignal } = {};
  const store = await openStore(compiled.store, {
    node,
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
  const { work, others } = await openStoreTransports(compiled.store.url, {
    node,
    read: store.observeStatuses?.bind(store),
    onError: lostConnection,
  }).catch(async (error: unknown) => {
    await store.close().catch(() => {});
    throw error;
  });
  announce.to = work;
  const timers = new TimerQueue(realClock);
  const resources = new ResourceManager({ node, capacity: compiled.resources, timers });
  const bus = new MemoryStatusBus((error) => log.error({ err: error }, "a status listener threw"));
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
    log,
  );
  return new Executor(new TaskExecutor(ctx, { ownsStore: true }), compiled);
}
