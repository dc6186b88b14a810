import type { NodeRecord, ResourceAmounts, TaskTypeInfo } from "../domain/records.js";
import type { ValidationIssue } from "../protocol/issues.js";
import { EPSILON } from "./capacity.js";
import type { ResourceStatus } from "./resource-status-codec.js";

/** A node is dead after this many heartbeats without news (SPEC §4). */
const MISSED_BEATS = 3;

/** How the api judges the workers it hears of. */
export interface ClusterViewOptions {
  heartbeatMs: number;
  /**
   * Workers heard within this long decide what admission refuses: a task only none of them could
   * run is refused, any other is accepted and waits for a worker (a late heartbeat, a broker
   * outage, a rolling deploy refuse nothing).
   */
  placementWindowMs: number;
  /** A node silent this long is forgotten altogether. */
  forgetAfterMs: number;
  /** Nodes kept at most; past it the one heard least lately is forgotten. */
  maxNodes: number;
  /** When this view began to listen (our clock). */
  since: number;
}

/** A worker as the cluster view shows it. */
export interface ClusterMember {
  status: ResourceStatus;
  /** When its last status was heard here: liveness is judged by this, never by the sender's clock. */
  heardAt: number;
  alive: boolean;
  /** Its task types as it recorded them in the store (description, parameters, example), if read yet. */
  types: readonly TaskTypeInfo[] | undefined;
}

interface Held {
  status: ResourceStatus;
  heardAt: number;
  types: readonly TaskTypeInfo[] | undefined;
}

/**
 * The cluster as the workers describe it: their resource statuses on `taskexec.resources`, and
 * the heartbeats they record in the store (read every heartbeat period, so the view holds through
 * a broker outage and is there at once after a restart). The API answers `/v1/resources` and
 * `/v1/types` from it, and refuses at submit only what no worker heard within the placement
 * window could ever run: a type none handles (`handler_not_found`), or more than any has
 * (`resource_unsatisfiable`).
 */
export class ClusterView {
  /** By node id, least lately heard first (a heard node moves to the end). */
  readonly #members = new Map<string, Held>();
  /** Each node's heartbeat time as last read from the store: a change is news, the value is not. */
  readonly #recordedAt = new Map<string, number>();
  readonly #options: ClusterViewOptions;
  /** Whether the store's nodes were read once: until then (and a heartbeat period), nothing is refused. */
  #seeded = false;

  constructor(options: ClusterViewOptions) {
    this.#options = options;
  }

  /** A node's status, heard over the broker at `at` (our clock). */
  heard(status: ResourceStatus, at: number): void {
    const held = this.#members.get(status.nodeId);
    this.#keep(status.nodeId, { status, heardAt: at, types: held?.types });
  }

  /**
   * The nodes as the store lists them, read at `now`. A node whose recorded heartbeat changed
   * since the last read was heard now; on the first read, one recorded within the placement
   * window is known (for placement) but not yet alive.
   */
  recorded(records: readonly NodeRecord[], now: number): void {
    const window = this.#options.placementWindowMs;
    for (const record of records) {
      const before = this.#recordedAt.get(record.node);
      this.#recordedAt.set(record.node, record.heartbeatAt);
      const held = this.#members.get(record.node);
      const types = record.types ?? held?.types;
      const fresh = before !== undefined && before !== record.heartbeatAt;
      if (fresh) {
        // A broker status heard later than this read is the newer picture of its resources.
        const status = held !== undefined && held.heardAt >= now ? held.status : statusOf(record);
        this.#keep(record.node, { status, heardAt: now, types });
      } else if (held !== undefined) {
        held.types = types;
      } else if (before === undefined && record.heartbeatAt >= now - window && record.heartbeatAt <= now) {
        // Known from before this process started: counts for placement, not for liveness.
        const heardAt = Math.min(record.heartbeatAt, now - MISSED_BEATS * this.#options.heartbeatMs - 1);
        this.#keep(record.node, { status: statusOf(record), heardAt, types });
      }
    }
    const listed = new Set(records.map((r) => r.node));
    for (const node of this.#recordedAt.keys()) if (!listed.has(node)) this.#recordedAt.delete(node);
    this.#seeded = true;
  }

  /** Every node heard of lately, alive or not, by node id. */
  members(now: number): ClusterMember[] {
    return this.#current(now).sort((a, b) => a.status.nodeId.localeCompare(b.status.nodeId));
  }

  /** The nodes heard of lately, in no order (admission asks at every submission: no sort). */
  #current(now: number): ClusterMember[] {
    const members: ClusterMember[] = [];
    for (const [node, { status, heardAt, types }] of this.#members) {
      if (heardAt < now - this.#options.forgetAfterMs) {
        this.#members.delete(node);
        continue;
      }
      members.push({ status, heardAt, types, alive: this.#alive(heardAt, now) });
    }
    return members;
  }

  /** The task types the workers heard within the placement window run, sorted (what is accepted). */
  handlerTypes(now: number): string[] {
    return this.describeTypes(now).map((t) => t.type);
  }

  /**
   * The task types of the workers heard within the placement window, each described as a worker
   * that runs it recorded it (the most lately heard first); a type no worker described yet has
   * only its name.
   */
  describeTypes(now: number): TaskTypeInfo[] {
    const byType = new Map<string, TaskTypeInfo>();
    const known = this.#known(now).sort(
      (a, b) => b.heardAt - a.heardAt || a.status.nodeId.localeCompare(b.status.nodeId),
    );
    for (const member of known)
      for (const info of member.types ?? []) if (!byType.has(info.type)) byType.set(info.type, info);
    for (const member of known)
      for (const type of member.status.handlerTypes)
        if (!byType.has(type))
          byType.set(type, { type, description: null, parameters_schema: null, example: null });
    return [...byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /**
   * Why no worker heard within the placement window could ever run a task of `type` asking for
   * `requirements` (empty: one could, or this view has not heard enough yet to say).
   */
  refusal(type: string, requirements: ResourceAmounts, now: number): ValidationIssue[] {
    if (!this.#informed(now)) return [];
    const known = this.#known(now);
    const handling = known.filter((m) => m.status.handlerTypes.includes(type));
    if (handling.length === 0) {
      const window = describeMs(this.#options.placementWindowMs);
      return [
        {
          path: "body.task_specification.type",
          message:
            known.length === 0
              ? `no worker was heard in the last ${window} to run it`
              : `no worker heard in the last ${window} handles task type "${type}"`,
          code: "handler_not_found",
        },
      ];
    }
    if (handling.some((m) => fits(requirements, m.status.capacity))) return [];
    return shortfall(requirements, handling);
  }

  /** Whether a live worker could run it now (a task none could waits for one, accepted). */
  liveWorkerFor(type: string, requirements: ResourceAmounts, now: number): boolean {
    return this.#current(now).some(
      (m) => m.alive && m.status.handlerTypes.includes(type) && fits(requirements, m.status.capacity),
    );
  }

  #alive(heardAt: number, now: number): boolean {
    return heardAt >= now - MISSED_BEATS * this.#options.heartbeatMs;
  }

  #known(now: number): ClusterMember[] {
    return this.#current(now).filter((m) => m.heardAt >= now - this.#options.placementWindowMs);
  }

  /** Whether the view may refuse: it read the store's nodes, or listened for two heartbeat periods. */
  #informed(now: number): boolean {
    return this.#seeded || now - this.#options.since >= 2 * this.#options.heartbeatMs;
  }

  #keep(node: string, held: Held): void {
    this.#members.delete(node);
    this.#members.set(node, held);
    // Bounded: a flood of node ids costs the oldest of them, never memory without end.
    while (this.#members.size > this.#options.maxNodes) {
      const oldest = this.#members.keys().next().value as string;
      this.#members.delete(oldest);
    }
  }
}

/** A node record from the store as the status a worker would publish. */
function statusOf(record: NodeRecord): ResourceStatus {
  return {
    nodeId: record.node,
    bootId: record.bootId ?? "",
    at: record.heartbeatAt,
    capacity: record.capacity,
    allocated: record.allocated,
    runningTasks: record.running,
    waitingTasks: record.waiting,
    handlerTypes: record.handlerTypes ?? (record.types ?? []).map((t) => t.type),
    protocolVersion: "",
  };
}

/**
 * The refusal of requirements that each kind may fit somewhere but no single worker has all of:
 * names the kinds the best worker (the one short of the fewest) lacks, with its amounts.
 */
function shortfall(requirements: ResourceAmounts, handling: readonly ClusterMember[]): ValidationIssue[] {
  const lacking = (capacity: Record<string, number>) =>
    Object.entries(requirements).filter(([kind, amount]) => amount > (own(capacity, kind) ?? 0) + EPSILON);
  const best = [...handling]
    .sort((a, b) => a.status.nodeId.localeCompare(b.status.nodeId))
    .map((m) => ({ member: m, short: lacking(m.status.capacity) }))
    .sort((a, b) => a.short.length - b.short.length)[0]!;
  const capacity = best.member.status.capacity;
  const has = Object.keys(requirements)
    .map((kind) => `${kind} ${own(capacity, kind) ?? 0}`)
    .join(", ");
  return best.short.map(([kind, amount]) => ({
    path: `body.task_specification.requirements.${kind}`,
    message: `asks for ${kind} ${amount}, but no worker has all it asks for: the closest, ${best.member.status.nodeId}, has ${has}`,
    code: "resource_unsatisfiable",
  }));
}

function fits(requirements: ResourceAmounts, capacity: Record<string, number>): boolean {
  return Object.entries(requirements).every(
    ([kind, amount]) => amount <= (own(capacity, kind) ?? 0) + EPSILON,
  );
}

/** A capacity of one kind: own keys only (`constructor` is a name a user may send, not a capacity). */
function own(capacity: Record<string, number>, kind: string): number | undefined {
  return Object.hasOwn(capacity, kind) ? capacity[kind] : undefined;
}

function describeMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}
