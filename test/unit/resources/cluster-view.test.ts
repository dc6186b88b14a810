import { describe, expect, it } from "vitest";
import { ClusterView } from "../../../src/resources/cluster-view.js";
import type { ResourceStatus } from "../../../src/resources/resource-status-codec.js";

const BEAT = 1_000;

function status(nodeId: string, at: number, overrides: Partial<ResourceStatus> = {}): ResourceStatus {
  return {
    nodeId,
    at,
    capacity: { cpu: 4, memory_mb: 4096 },
    allocated: {},
    runningTasks: 0,
    waitingTasks: 0,
    handlerTypes: ["noop"],
    protocolVersion: "1.0.0",
    ...overrides,
  };
}

describe("ClusterView", () => {
  it("lists every node with its latest status, dead after three missed heartbeats", () => {
    const view = new ClusterView(BEAT);
    view.heard(status("a", 1_000), 1_000);
    view.heard(status("b", 1_000, { runningTasks: 1 }), 1_000);
    view.heard(status("b", 2_000, { runningTasks: 2 }), 2_000);
    view.heard(status("b", 1_500, { runningTasks: 9 }), 2_100); // late, older: ignored
    expect(view.members(3_900).map((m) => [m.status.nodeId, m.alive, m.status.runningTasks])).toEqual([
      ["a", true, 0],
      ["b", true, 2],
    ]);
    expect(view.members(4_001).map((m) => [m.status.nodeId, m.alive])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    // Forgotten after a day of silence.
    expect(view.members(2_000 + 86_400_001)).toEqual([]);
  });

  it("refuses what no live worker could ever run: a type none handles, more than any has", () => {
    const view = new ClusterView(BEAT);
    expect(view.refusal("noop", {}, 0)).toMatchObject([
      { code: "handler_not_found", message: "no worker is alive to run it" },
    ]);
    view.heard(status("cpu-node", 0, { capacity: { cpu: 8, memory_mb: 1024 } }), 0);
    view.heard(status("gpu-node", 0, { capacity: { cpu: 2, gpu: 1 }, handlerTypes: ["noop", "train"] }), 0);
    view.heard(status("gone", 0, { capacity: { cpu: 64 }, handlerTypes: ["noop", "report"] }), -10_000);
    expect(view.refusal("noop", { cpu: 8 }, 100)).toEqual([]);
    expect(view.refusal("train", { gpu: 1, cpu: 2 }, 100)).toEqual([]);
    // Only the GPU node handles "train", and it has 2 CPUs.
    expect(view.refusal("train", { cpu: 4 }, 100)).toMatchObject([
      {
        code: "resource_unsatisfiable",
        path: "body.task_specification.requirements.cpu",
        message: "asks for 4 but the largest live worker has 2",
      },
    ]);
    // Each fits on some node, never both on one.
    expect(view.refusal("noop", { cpu: 8, gpu: 1 }, 100)).toMatchObject([
      { code: "resource_unsatisfiable", path: "body.task_specification.requirements" },
    ]);
    // The dead node's 64 CPUs and its handler count for nothing.
    expect(view.refusal("noop", { cpu: 16 }, 100)[0]?.code).toBe("resource_unsatisfiable");
    expect(view.refusal("report", {}, 100)).toMatchObject([
      { code: "handler_not_found", message: 'no live worker handles task type "report"' },
    ]);
    expect(view.refusal("noop", { constructor: 1 }, 100)[0]?.code).toBe("resource_unsatisfiable");
  });
});
