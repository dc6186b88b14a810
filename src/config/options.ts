import { z } from "zod";
import type { AnyTaskHandler } from "../handlers/handler.js";
import { formatPath } from "../protocol/issues.js";
import { machineCapacity } from "../resources/capacity.js";
import { LOG_COMPONENTS, type Logger } from "../observability/logger.js";
import { ConfigError } from "./config-error.js";
import { parseDuration } from "./duration.js";
import { ServiceOptionsShape } from "./service-options.js";

const Duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: "custom", message: `not a duration: ${JSON.stringify(value)} (e.g. 30s, 15m, 7d)` });
    return z.NEVER;
  }
  return ms;
});

const PositiveMs = z.int().positive();
const LogLevel = z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

function isLoggerLike(value: unknown): boolean {
  const logger = value as Partial<Record<"child" | "info" | "warn" | "error", unknown>> | null;
  return (
    typeof logger === "object" &&
    logger !== null &&
    ["child", "info", "warn", "error"].every((name) => typeof logger[name as "info"] === "function")
  );
}

// Config holds values: whether an object is a handler made with defineHandler() is checked where
// handlers are registered (createExecutor), which names the entry.
const HandlerEntry = z.union([
  z.string().min(1),
  z.custom<AnyTaskHandler>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    "must be a module path or a handler made with defineHandler()",
  ),
]);

/**
 * The executor's options: the keys of `config.yaml` (SPEC §7), as an object. Every key is
 * optional; {@link compileOptions} fills in the defaults and freezes the result.
 */
export const ExecutorOptionsSchema = z.strictObject({
  ...ServiceOptionsShape,
  /** `embedded`: `taskexec serve` runs the API and the executor on store.url. `distributed`: `taskexec api` and `taskexec worker` processes over message_broker_url (serve refuses it). @default "embedded" */
  mode: z.enum(["embedded", "distributed"]).default("embedded"),
  /**
   * This executor's node name in statuses and resource views (no spaces: processes sharing a
   * database name themselves in their notifications with it). @default host:pid:random
   */
  node_id: z.string().min(1).max(200).regex(/^\S+$/, "must not contain spaces").optional(),
  store: z
    .strictObject({
      /** Where state lives: `sqlite:<file>` (one process per file) or `postgres://…` (any number of processes). @default "sqlite:data/taskexec.db" */
      url: z.string().min(1).default("sqlite:data/taskexec.db"),
      /** SQLite's durability: `full` survives power loss, `normal` a process crash. @default "full" */
      synchronous: z.enum(["full", "normal"]).default("full"),
      /** PostgreSQL: connections this process opens at most (one more listens for the others' news). @default 10 */
      max_connections: z.int().min(2).max(1000).default(10),
    })
    .prefault({}),
  /** With a store other processes share: how often to look for work and due retries they made, in case news of it was lost. @default 1000 */
  poll_ms: PositiveMs.default(1_000),
  /** Tasks running at once; as many more may wait for resources without a slot (one principal: half). @default 100 */
  max_concurrent_tasks: z.int().min(1).max(100_000).default(100),
  /** This node's capacity per resource kind; kinds not named keep their defaults (set one to 0 to offer none). @default the machine's CPUs and memory, gpu 0 */
  resources: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.number().min(0)).optional(),
  /** How long a task may wait for resources before the attempt fails `resource_unavailable`. @default 60000 */
  allocation_timeout_ms: PositiveMs.default(60_000),
  retry: z
    .strictObject({
      /** Attempts before a task fails (a task may set its own). @default 3 */
      max_attempts: z.int().min(1).max(100).default(3),
      /** The delay after the first failed attempt; after attempt n: base × factor^(n−1), with jitter. @default 1000 */
      base_ms: z.int().min(0).default(1000),
      /** How much each delay grows over the one before. @default 2 */
      factor: z.number().min(1).max(100).default(2),
      /** The longest delay between attempts. @default 300000 */
      max_ms: z.int().min(0).default(300_000),
    })
    .prefault({}),
  /** How often leases are renewed and this node reports itself alive. @default 5000 */
  heartbeat_ms: PositiveMs.default(5000),
  /** Distributed mode: how the api judges the workers it hears of (their heartbeats). */
  cluster: z
    .strictObject({
      /**
       * Workers heard within this long decide what `taskexec api` refuses: a task only none of
       * them could run is refused (`handler_not_found`, `resource_unsatisfiable`); any other is
       * accepted, and waits for a worker if none alive runs it now. @default "10m"
       */
      placement_window: Duration.default(600_000),
      /** A worker silent this long is forgotten (no longer listed). @default "1h" */
      forget_after: Duration.default(3_600_000),
      /** Workers the api keeps at most; past it, the one heard least lately is forgotten. @default 1000 */
      max_nodes: z.int().min(1).max(100_000).default(1000),
      /**
       * A ready task no one claimed for this long, while the broker's queue holds nothing to hand
       * out, is announced again (its message was lost, or a consumer holds it and runs nothing).
       * @default "30s"
       */
      reannounce_after: Duration.default(30_000),
    })
    .prefault({}),
  /** How long a running task's lease lasts without renewal before it counts as lost. @default 30000 */
  lease_ms: z.int().min(100).default(30_000),
  /** How long finished tasks are kept. @default "7d" */
  retention: Duration.default(7 * 86_400_000),
  /** How long an aborted handler keeps its resources before they are taken back. @default 5000 */
  abort_grace_ms: z.int().min(0).default(5000),
  /** Running tasks get this long to finish on stop(); the rest go back to the queue. @default 10000 */
  shutdown_grace_ms: z.int().min(0).default(10_000),
  /** Handler modules to load (paths), and, in the library API, handler objects. @default [] */
  handlers: z.array(HandlerEntry).default([]),
  /** Built-in handlers that reach outside the process; off unless enabled here. */
  builtins: z
    .strictObject({
      http: z
        .strictObject({
          /** Registers the `http` handler. @default false */
          enabled: z.boolean().default(false),
          /** Hosts (or host:port) a task may call; none: every URL is refused. @default [] */
          allow_hosts: z.array(z.string().min(1)).default([]),
          /** A request that takes longer fails its attempt (retried). @default 10000 */
          timeout_ms: PositiveMs.default(10_000),
          /** A longer response fails its attempt. @default 1048576 */
          max_response_bytes: PositiveMs.default(1024 * 1024),
        })
        .prefault({}),
      shell: z
        .strictObject({
          /** Registers the `shell` handler (docs/SECURITY.md). @default false */
          enabled: z.boolean().default(false),
          /** Program names (found on the server's PATH at start) or absolute paths. @default [] */
          allow_programs: z.array(z.string().min(1)).default([]),
          /** When set, the only environment variables a task may set. @default any but loader variables */
          allow_env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).optional(),
          /** Folders a task's `cwd` may lie in; none: tasks may not set `cwd`. @default [] */
          cwd_roots: z.array(z.string().min(1)).default([]),
          /** A program that runs longer is killed and its attempt fails (retried). @default 60000 */
          timeout_ms: PositiveMs.default(60_000),
          /** Kept of stdout and of stderr each; the rest is dropped. @default 65536 */
          max_output_bytes: PositiveMs.default(64 * 1024),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * V8's allocation-site pretenuring, for the whole process. Off by default: it moves the
   * short-lived objects of every task into the old generation after a bulk submission (see
   * src/engine/allocation-site-pretenuring.ts). `true` leaves V8's own setting alone.
   * @default false
   */
  allocation_site_pretenuring: z.boolean().default(false),
  logging: z
    .strictObject({
      /**
       * What is logged. Unset: `info` for `taskexec serve`, `api` and `worker` (every submission,
       * refusal and state change), `warn` for the library, which should not fill its
       * application's output unless asked.
       */
      level: LogLevel.optional(),
      /**
       * A level per component, over `level`: `engine` (state changes, retries, recovery),
       * `submissions` (accepted, duplicate, refused), `http` (refused requests, failures),
       * `broker` (RabbitMQ) and `store` (the database). @default {}
       */
      levels: z.partialRecord(z.enum(LOG_COMPONENTS), LogLevel).default({}),
      /** `json` (a JSON object per line) or `pretty` (for a person). Unset: pretty at a terminal, JSON otherwise. */
      format: z.enum(["json", "pretty"]).optional(),
      /**
       * A file to append the lines to, instead of stdout (made with its folder if missing; reopened
       * on SIGHUP, for logrotate).
       */
      file: z.string().min(1).optional(),
    })
    .prefault({}),
  /**
   * The library only: a pino (or pino-compatible: `child`, `info`, `warn`, `error`) logger to write
   * to instead of taskexec's own; `logging.level` is then the application's business.
   */
  logger: z
    .custom<Logger>(isLoggerLike, "must be a pino-compatible logger (child, info, warn, error)")
    .optional(),
  /** The principal of the in-process client (`executor.client()`). @default "local" */
  principal: z.string().min(1).default("local"),
});

export type ExecutorOptions = z.input<typeof ExecutorOptionsSchema>;
export type CompiledOptions = Readonly<
  z.output<typeof ExecutorOptionsSchema> & { resources: Record<string, number> }
>;

/** Validates user options, fills every default, and freezes the result. Throws {@link ConfigError}. */
export function compileOptions(options: ExecutorOptions = {}): CompiledOptions {
  const parsed = ExecutorOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ path: formatPath(i.path) || "(root)", message: i.message })),
    );
  }
  const compiled = { ...parsed.data, resources: { ...machineCapacity(), ...parsed.data.resources } };
  return deepFreeze(compiled);
}

/**
 * Freezes plain values (objects and arrays of the options' own); what is not plain is the
 * application's, and left as it is: its logger (pino makes a child with Object.create, which
 * cannot assign over a frozen parent's properties), a handler object (frozen by defineHandler).
 */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && isPlain(value) && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function isPlain(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === Array.prototype || prototype === null;
}
