import { availableParallelism, totalmem } from "node:os";
import type { ValidationIssue } from "../protocol/issues.js";
import type { ResourceAmounts } from "../domain/records.js";

/** This machine's capacity when config names none: its CPUs and memory, and no GPU. */
export function machineCapacity(): ResourceAmounts {
  return { cpu: availableParallelism(), memory_mb: Math.floor(totalmem() / (1024 * 1024)), gpu: 0 };
}

/** Amounts below this are taken as zero (fractional CPUs add up with rounding errors). */
export const EPSILON = 1e-9;

/**
 * Whether `requirements` could ever be granted by a node of `capacity`: each amount asked for
 * must not exceed the whole capacity of its kind (an unknown kind has none).
 */
export function unsatisfiableIssues(
  requirements: ResourceAmounts,
  capacity: ResourceAmounts,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [kind, amount] of Object.entries(requirements)) {
    // Own kinds only: `constructor` or `toString` are names a user may send, not capacities.
    const offered = Object.hasOwn(capacity, kind);
    const available = offered ? (capacity[kind] ?? 0) : 0;
    if (amount > available + EPSILON) {
      issues.push({
        path: `body.task_specification.requirements.${kind}`,
        message: offered
          ? `asks for ${amount} but the largest node has ${available}`
          : `no node offers resource "${kind}"`,
        code: "resource_unsatisfiable",
      });
    }
  }
  return issues;
}
