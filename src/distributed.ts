// Distributed mode's wiring (SPEC §4): what an `api` or a `worker` process opens besides its
// store — the broker connection, the status bus, the work signal, the outbox relay and the
// resource feed — and how they are closed, in order.
import type { CompiledOptions } from "./config/options.js";
import { readBrokerTls } from "./config/broker-tls.js";
import { ConfigError } from "./config/config-error.js";
import type { ClusterNode, ClusterPlacement } from "./engine/cluster-placement.js";
import type { HandlerRegistry } from "./handlers/registry.js";
import type { Logger } from "./observability/logger.js";
import { unsatisfiableIssues } from "./resources/capacity.js";
import { ClusterView } from "./resources/cluster-view.js";
import { tellEndsAgain } from "./engine/tell-ends-again.js";
import type { ResourceManager } from "./resources/resource-manager.js";
import type { TaskStore } from "./store/task-store.js";
import { AmqpConnection } from "./transport/amqp/amqp-connection.js";
import { AmqpResourceFeed } from "./transport/amqp/amqp-resource-feed.js";
import { AmqpStatusBus } from "./transport/amqp/amqp-status-bus.js";
import { AmqpStatusFeed } from "./transport/amqp/amqp-status-feed.js";
import { AmqpWorkSignal } from "./transport/amqp/amqp-work-signal.js";
import type { SignMessage, VerifyMessage } from "./transport/amqp/message-proof.js";
import { MessageRefused } from "./transport/amqp/message-refused.js";
import { OutboxWorkSignal } from "./transport/amqp/outbox-work-signal.js";
import { WorkRelay } from "./transport/amqp/work-relay.js";
import { PostgresStatusFeed } from "./transport/postgres/postgres-status-feed.js";
import type { StatusFeed } from "./transport/status-feed.js";
import type { WorkSignal } from "./transport/work-signal.js";

/** How long before the first status dropped while the broker was away ends are told again from. */
const TELL_AGAIN_BEFORE_MS = 10_000;

/** Which side of distributed mode a process is. */
export type DistributedRole = "admission" | "worker";

/** What a process of distributed mode opens besides its store. */
export interface DistributedTransports {
  connection: AmqpConnection;
  bus: AmqpStatusBus;
  work: WorkSignal;
  others: StatusFeed;
  relay: WorkRelay;
  resources: AmqpResourceFeed;
  /** Whether it consumes what its role should (a worker: `taskexec.tasks`), for `/readyz`. */
  consuming: () => boolean;
  /** Tells `listener` of each message heard and refused (dead-lettered), with where it came from. */
  onRefused: (listener: (from: string) => void) => void;
}

/** Refuses a config that cannot run distributed mode, naming the keys. */
export function checkDistributedConfig(options: CompiledOptions, command: string): string {
  const issues = [];
  if (options.message_broker_url === undefined)
    issues.push({ path: "message_broker_url", message: `taskexec ${command} needs the broker (amqp://…)` });
  if (!/^postgres(ql)?:\/\//.test(options.store.url))
    issues.push({ path: "store.url", message: `taskexec ${command} needs PostgreSQL (postgres://…)` });
  if (issues.length > 0) throw new ConfigError(issues);
  return options.message_broker_url!;
}

/**
 * Opens the broker side of one process. A worker consumes `taskexec.tasks` (claiming what it is
 * handed in PostgreSQL), signs the statuses it publishes, and hears of cancels through the
 * database; an api verifies the statuses it hears and feeds its watchers and observers from
 * `taskexec.status`. Both relay the outbox: the work either of them makes ready (a submission, a
 * retry due, a task handed back) is published by whichever relay gets to it first.
 */
export async function openDistributedTransports(context: {
  options: CompiledOptions;
  role: DistributedRole;
  node: string;
  store: TaskStore;
  log: Logger;
  /** Signs a status this process publishes, given its JSON (undefined: auth is off). */
  sign?: SignMessage | undefined;
  /** Whether a message's signature is an executor's, of its bytes (undefined: auth is off). */
  verify?: VerifyMessage | undefined;
  /** Whether this worker could ever take a task (its handlers and capacity). */
  accepts?: ((type: string, requirements: Record<string, number>) => boolean) | undefined;
  /** Told of each loss of the broker connection. */
  onBrokerLost?: (() => void) | undefined;
}): Promise<DistributedTransports> {
  const { options, role, node, store, log } = context;
  const url = checkDistributedConfig(options, role === "worker" ? "worker" : "api");
  const refused = new Set<(from: string) => void>();
  const warn = (what: string) => (error: unknown) => {
    if (error instanceof MessageRefused) for (const listener of refused) listener(error.from);
    log.warn({ err: error }, what);
  };
  const onRefused = (listener: (from: string) => void) => void refused.add(listener);
  const connection = await AmqpConnection.open({
    url,
    name: `taskexec ${role === "worker" ? "worker" : "api"} ${node}`,
    onError: warn("the broker connection failed; reconnecting"),
    onLost: context.onBrokerLost,
    tls: readBrokerTls(options),
  });
  const opened: { close(): Promise<unknown> }[] = [connection];
  try {
    const relay = await WorkRelay.start(connection, {
      forward: store.forwardReadyWork!.bind(store),
      sign: context.sign,
      pollMs: options.poll_ms,
      onError: warn("relaying ready work failed; the outbox keeps it"),
    });
    opened.push({ close: () => relay.stop() });
    const bus: AmqpStatusBus = await AmqpStatusBus.open(connection, {
      onError: warn("a status from the broker was refused"),
      sign: context.sign,
      verify: context.verify,
      // Statuses dropped while the broker was away are in the store: the ends among them (what a
      // client on the broker waits for) are told again, with those of a while before.
      afterDropping: (since, dropped) => {
        tellEndsAgain({ store, bus }, since - TELL_AGAIN_BEFORE_MS, Date.now()).then(
          (told) =>
            log.warn({ dropped, told: told.length }, "the broker is back: told again the ends dropped"),
          warn("could not tell again the ends dropped while the broker was away"),
        );
      },
    });
    opened.push(bus);
    const resources = await AmqpResourceFeed.open(connection, {
      onError: warn("a resource status was refused"),
      sign: context.sign,
      verify: context.verify,
    });
    opened.push(resources);
    const wake = () => relay.wake();
    let work: WorkSignal;
    let others: StatusFeed;
    let consuming = () => true;
    if (role === "worker") {
      const taking = await AmqpWorkSignal.open(connection, {
        claim: (ids) => {
          const now = Date.now();
          return store.claimTasks!(node, ids, now, now + options.lease_ms);
        },
        accepts: context.accepts,
        verify: context.verify,
        ready: async (ids) => {
          const tasks = await Promise.all(ids.map((id) => store.getTask(id)));
          return new Set(
            tasks.flatMap((t) => (t?.state === "resource_allocation" && t.leaseOwner === null ? [t.id] : [])),
          );
        },
        prefetch: options.max_concurrent_tasks,
        wake,
        onError: warn("taking work from the broker failed"),
      });
      work = taking;
      consuming = () => taking.consuming;
      opened.push(work);
      // Cancels come in at the api and are written to the database; the worker holding the
      // task hears of them there (only its own tasks' statuses are read).
      others = await PostgresStatusFeed.open({
        url: options.store.url,
        node,
        read: store.observeStatuses!.bind(store),
        onError: warn("lost the database's status notifications; reconnecting"),
      });
    } else {
      work = new OutboxWorkSignal(wake, warn("a work listener threw"));
      others = new AmqpStatusFeed(bus);
    }
    return { connection, bus, work, others, relay, resources, consuming, onRefused };
  } catch (error) {
    for (const part of opened.reverse()) await part.close().catch(() => {});
    throw error;
  }
}

/**
 * Closes what {@link openDistributedTransports} opened, once the engine stopped: the relay hands
 * over what the stop made ready (tasks given back) first, then the rest goes, the store last.
 */
export async function closeDistributed(transports: DistributedTransports, store: TaskStore): Promise<void> {
  const { relay, work, others, resources, bus, connection } = transports;
  relay.wake();
  await relay.idle();
  await relay.stop();
  await others.close();
  await work.close();
  await resources.close();
  await bus.close();
  await connection.close();
  await store.close();
}

/** Whether a worker with these handlers and resources could ever take a task. */
export function workerAccepts(
  registry: HandlerRegistry,
  resources: ResourceManager,
): (type: string, requirements: Record<string, number>) => boolean {
  return (type, requirements) =>
    registry.get(type) !== undefined && unsatisfiableIssues(requirements, resources.capacity).length === 0;
}

/**
 * The api's view of the workers, from their resource statuses on the broker and the heartbeats
 * they record in the store (read now, then every heartbeat period: the view is there at once after
 * a restart and holds through a broker outage). Admission refuses only what no worker heard
 * lately could run, and `/v1/resources` lists every node. Resolves once it listens; `stop` ends
 * the store's reading.
 */
export async function listenToCluster(context: {
  feed: AmqpResourceFeed;
  store: TaskStore;
  options: CompiledOptions;
  log: Logger;
}): Promise<{ placement: ClusterPlacement; stop: () => void }> {
  const { feed, store, options, log } = context;
  const view = new ClusterView({
    heartbeatMs: options.heartbeat_ms,
    placementWindowMs: options.cluster.placement_window,
    forgetAfterMs: options.cluster.forget_after,
    maxNodes: options.cluster.max_nodes,
    since: Date.now(),
  });
  await feed.listen((status) => view.heard(status, Date.now()));
  let failing = false;
  const read = async () => {
    try {
      view.recorded((await store.listNodes?.()) ?? [], Date.now());
      failing = false;
    } catch (error) {
      if (!failing) log.warn({ err: error }, "could not read the workers' heartbeats from the store");
      failing = true;
    }
  };
  await read();
  const timer = setInterval(() => void read(), options.heartbeat_ms);
  timer.unref();
  const placement: ClusterPlacement = {
    refusal: (type, requirements, now) => view.refusal(type, requirements, now),
    liveWorkerFor: (type, requirements, now) => view.liveWorkerFor(type, requirements, now),
    handlerTypes: (now) => view.handlerTypes(now),
    describeTypes: (now) => view.describeTypes(now),
    nodes: (now): ClusterNode[] =>
      view.members(now).map(({ status, alive, heardAt }) => ({
        resources: {
          node: status.nodeId,
          capacity: status.capacity,
          allocated: status.allocated,
          free: Object.fromEntries(
            Object.entries(status.capacity).map(([kind, total]) => [
              kind,
              Math.max(0, total - (status.allocated[kind] ?? 0)),
            ]),
          ),
          running: status.runningTasks,
          waiting: status.waitingTasks,
        },
        heartbeatAt: heardAt,
        sentAt: status.at,
        alive,
        bootId: status.bootId,
      })),
  };
  return { placement, stop: () => clearInterval(timer) };
}

/**
 * A worker's resource status on `taskexec.resources` every `heartbeat_ms` (its capacity, what it
 * holds, its handler types). Returns the function that stops it.
 */
export function beaconResources(context: {
  feed: AmqpResourceFeed;
  node: string;
  bootId: string;
  resources: ResourceManager;
  registry: HandlerRegistry;
  heartbeatMs: number;
  log: Logger;
}): () => void {
  const { feed, node, bootId, resources, registry, heartbeatMs, log } = context;
  let failing = false;
  const beat = () => {
    const now = resources.snapshot();
    feed
      .publish({
        nodeId: node,
        bootId,
        at: Date.now(),
        capacity: now.capacity,
        allocated: now.allocated,
        runningTasks: now.running,
        waitingTasks: now.waiting,
        handlerTypes: registry.types(),
      })
      .then(
        () => {
          if (failing) log.info("publishing this worker's resources again");
          failing = false;
        },
        (error: unknown) => {
          // Once per outage: the connection's own errors say the rest.
          if (!failing) log.warn({ err: error }, "could not publish this worker's resources");
          failing = true;
        },
      );
  };
  beat();
  const timer = setInterval(beat, heartbeatMs);
  timer.unref();
  return () => clearInterval(timer);
}
