import type { ResourceAmounts } from "../domain/records.js";
import type { ValidationIssue } from "../protocol/issues.js";
import type { ResourceSnapshot } from "../resources/resource-manager.js";

/** A node of the cluster as `nodes()` lists it. */
export interface ClusterNode {
  resources: ResourceSnapshot;
  heartbeatAt: number;
  alive: boolean;
}

/**
 * What a process that runs no tasks itself (`taskexec api`) knows of the workers that do: which
 * nodes there are, and whether any live one could ever run a task. Admission refuses a task with
 * the issues `refusal` gives, instead of checking this process's handlers and capacity.
 */
export interface ClusterPlacement {
  /** Why no live worker could ever run a task of `type` asking for `requirements`; empty if one could. */
  refusal(type: string, requirements: ResourceAmounts, now: number): ValidationIssue[];
  /** Every worker heard of, alive or not. */
  nodes(now: number): ClusterNode[];
  /** The handler types some live worker runs. */
  handlerTypes(now: number): string[];
}
