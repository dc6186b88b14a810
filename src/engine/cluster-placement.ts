import type { ResourceAmounts, TaskTypeInfo } from "../domain/records.js";
import type { ValidationIssue } from "../protocol/issues.js";
import type { ResourceSnapshot } from "../resources/resource-manager.js";

/** A node of the cluster as `nodes()` lists it. */
export interface ClusterNode {
  resources: ResourceSnapshot;
  /** When its last heartbeat was heard (this process's clock). */
  heartbeatAt: number;
  /** When that heartbeat says it was sent (the node's clock: not trusted for liveness). */
  sentAt: number;
  alive: boolean;
  /** Which run of its process this is ("" when unknown). */
  bootId: string;
}

/**
 * What a process that runs no tasks itself (`taskexec api`) knows of the workers that do: which
 * nodes there are, and whether any live one could ever run a task. Admission refuses a task with
 * the issues `refusal` gives, instead of checking this process's handlers and capacity.
 */
export interface ClusterPlacement {
  /**
   * Why no worker heard lately (within a generous window) could ever run a task of `type` asking
   * for `requirements`; empty if one could, or if too little was heard yet to say.
   */
  refusal(type: string, requirements: ResourceAmounts, now: number): ValidationIssue[];
  /** Whether a live worker could run it now; an accepted task none could waits for one. */
  liveWorkerFor(type: string, requirements: ResourceAmounts, now: number): boolean;
  /** Every worker heard of, alive or not. */
  nodes(now: number): ClusterNode[];
  /** The handler types the workers heard lately run. */
  handlerTypes(now: number): string[];
  /** The same, each with its description, parameters' JSON Schema and example. */
  describeTypes(now: number): TaskTypeInfo[];
}
