import type { ResourceAmounts } from "../domain/records.js";
import type { ValidationIssue } from "../protocol/issues.js";
import { EPSILON } from "./capacity.js";
import type { ResourceStatus } from "./resource-status-codec.js";

/** A node is dead after this many heartbeats without news (SPEC §4). */
const MISSED_BEATS = 3;
/** A node silent this long is forgotten altogether. */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/** A worker as the cluster view shows it. */
export interface ClusterMember {
  status: ResourceStatus;
  /** When its last status was heard here (the sender's clock may differ from ours). */
  heardAt: number;
  alive: boolean;
}

/**
 * The cluster as the workers' resource statuses describe it (`taskexec.resources`): what each
 * node has, holds and runs, and whether it is alive. The API answers `/v1/resources` from it and
 * refuses at submit what no live worker could ever run: a task asking for more than any live
 * node has (`resource_unsatisfiable`), or of a type no live node handles (`handler_not_found`).
 */
export class ClusterView {
  readonly #members = new Map<string, { status: ResourceStatus; heardAt: number }>();
  readonly #heartbeatMs: number;

  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** A node's latest status; an older one than what is held (out of order) is ignored. */
  heard(status: ResourceStatus, at: number): void {
    const held = this.#members.get(status.nodeId);
    if (held !== undefined && held.status.at > status.at) return;
    this.#members.set(status.nodeId, { status, heardAt: at });
  }

  /** Every node heard of in the last day, alive or not, by node id. */
  members(now: number): ClusterMember[] {
    const members: ClusterMember[] = [];
    for (const [node, { status, heardAt }] of this.#members) {
      if (heardAt < now - FORGET_AFTER_MS) {
        this.#members.delete(node);
        continue;
      }
      members.push({ status, heardAt, alive: heardAt >= now - MISSED_BEATS * this.#heartbeatMs });
    }
    return members.sort((a, b) => a.status.nodeId.localeCompare(b.status.nodeId));
  }

  /** The task types some live node runs, sorted. */
  handlerTypes(now: number): string[] {
    const types = new Set<string>();
    for (const member of this.members(now))
      if (member.alive) for (const t of member.status.handlerTypes) types.add(t);
    return [...types].sort();
  }

  /**
   * Why no live node could ever run a task of `type` asking for `requirements` (empty: one
   * could): its type is handled by none, or no single node has all it asks for.
   */
  refusal(type: string, requirements: ResourceAmounts, now: number): ValidationIssue[] {
    const live = this.members(now).filter((m) => m.alive);
    const handling = live.filter((m) => m.status.handlerTypes.includes(type));
    if (handling.length === 0) {
      return [
        {
          path: "body.task_specification.type",
          message:
            live.length === 0 ? "no worker is alive to run it" : `no live worker handles task type "${type}"`,
          code: "handler_not_found",
        },
      ];
    }
    if (handling.some((m) => fits(requirements, m.status.capacity))) return [];
    const largest = (kind: string) => Math.max(0, ...handling.map((m) => own(m.status.capacity, kind) ?? 0));
    const short = Object.entries(requirements).filter(([kind, amount]) => amount > largest(kind) + EPSILON);
    if (short.length === 0) {
      // Each kind fits somewhere, but no node has them all at once.
      return [
        {
          path: "body.task_specification.requirements",
          message: "no single live worker has all it asks for",
          code: "resource_unsatisfiable",
        },
      ];
    }
    return short.map(([kind, amount]) => ({
      path: `body.task_specification.requirements.${kind}`,
      message: `asks for ${amount} but the largest live worker has ${largest(kind)}`,
      code: "resource_unsatisfiable",
    }));
  }
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
