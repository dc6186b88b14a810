import { describe, expect, it } from "vitest";
import type { NodeRecord } from "../../../src/domain/records.js";
import { ClusterView, type ClusterViewOptions } from "../../../src/resources/cluster-view.js";
import type { ResourceStatus } from "../../../src/resources/resource-status-codec.js";

const BEAT = 1_000;
const WINDOW = 60_000;

function view(overrides: Partial<ClusterViewOptions> = {}): ClusterView {
  return new ClusterView({
    heartbeatMs: BEAT,
    placementWindowMs: WINDOW,
    forgetAfterMs: 3_600_000,
    maxNodes: 1_000,
    since: 0,
    ...overrides,
  });
}

function status(nodeId: string, at: number, overrides: Partial<ResourceStatus> = {}): ResourceStatus {
  return {
    nodeId,
    bootId: "boot-1",
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

function record(node: string, heartbeatAt: number, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    node,
    heartbeatAt,
    capacity: { cpu: 2 },
    allocated: {},
    free: { cpu: 2 },
    running: 0,
    waiting: 0,
    bootId: "boot-1",
    handlerTypes: ["noop", "resize"],
    types: [
      { type: "noop", description: null, parameters_schema: null, example: null },
      {
        type: "resize",
        description: "Resizes an image",
        parameters_schema: { type: "object", properties: { width: { type: "integer" } } },
        example: { width: 100 },
      },
    ],
    ...overrides,
  };
}

describe("ClusterView", () => {
  it("lists every node with its latest status, dead after three missed heartbeats (as heard here)", () => {
    const v = view();
    v.heard(status("a", 1_000), 1_000);
    v.heard(status("b", 1_000, { runningTasks: 1 }), 1_000);
    v.heard(status("b", 2_000, { runningTasks: 2 }), 2_000);
    expect(v.members(3_900).map((m) => [m.status.nodeId, m.alive, m.status.runningTasks])).toEqual([
      ["a", true, 0],
      ["b", true, 2],
    ]);
    expect(v.members(4_001).map((m) => [m.status.nodeId, m.alive])).toEqual([
      ["a", false],
      ["b", true],
    ]);
    // Forgotten after forget_after of silence.
    expect(v.members(2_000 + 3_600_001)).toEqual([]);
  });

  it("judges liveness by when a status arrived, never by the sender's clock", () => {
    const v = view();
    // A status that claims to come from far in the future makes no other node look dead, and
    // later genuine statuses of the same node are not ignored as older.
    v.heard(status("real", 1_000), 1_000);
    v.heard(status("real", Number.MAX_SAFE_INTEGER, { runningTasks: 9 }), 1_500);
    v.heard(status("real", 2_000, { runningTasks: 1 }), 2_000);
    v.heard(status("past", 1), 2_000);
    expect(v.members(4_500).map((m) => [m.status.nodeId, m.alive, m.status.runningTasks])).toEqual([
      ["past", true, 0],
      ["real", true, 1],
    ]);
  });

  it("keeps at most max_nodes: a flood of node ids forgets the ones heard least lately", () => {
    const v = view({ maxNodes: 100 });
    for (let i = 0; i < 120_000; i++) v.heard(status(`fake-${i}`, 1), 1_000);
    v.heard(status("real", 1_000), 1_000);
    const members = v.members(1_000);
    expect(members).toHaveLength(100);
    expect(members.some((m) => m.status.nodeId === "real")).toBe(true);
    expect(members.some((m) => m.status.nodeId === "fake-0")).toBe(false);
  });

  it("refuses what no worker heard within the window could ever run: a type none handles, more than any has", () => {
    const v = view();
    v.heard(status("cpu-node", 0, { capacity: { cpu: 8, memory_mb: 1024 } }), 0);
    v.heard(status("gpu-node", 0, { capacity: { cpu: 2, gpu: 1 }, handlerTypes: ["noop", "train"] }), 0);
    v.heard(status("gone", 0, { capacity: { cpu: 64 }, handlerTypes: ["noop", "report"] }), -WINDOW - 1);
    const now = 10_000; // every worker's heartbeat is late: nothing is refused for that
    expect(v.refusal("noop", { cpu: 8 }, now)).toEqual([]);
    expect(v.refusal("train", { gpu: 1, cpu: 2 }, now)).toEqual([]);
    // Only the GPU node handles "train", and it has 2 CPUs.
    expect(v.refusal("train", { cpu: 4 }, now)).toMatchObject([
      {
        code: "resource_unsatisfiable",
        path: "body.task_specification.requirements.cpu",
        message: "asks for cpu 4, but no worker has all it asks for: the closest, gpu-node, has cpu 2",
      },
    ]);
    // Each fits on some node, never both on one: the message names the kind and the amounts.
    expect(v.refusal("noop", { cpu: 8, gpu: 1 }, now)).toMatchObject([
      {
        code: "resource_unsatisfiable",
        path: "body.task_specification.requirements.gpu",
        message: "asks for gpu 1, but no worker has all it asks for: the closest, cpu-node, has cpu 8, gpu 0",
      },
    ]);
    // The node not heard within the window counts for nothing.
    expect(v.refusal("noop", { cpu: 16 }, now)[0]?.code).toBe("resource_unsatisfiable");
    expect(v.refusal("report", {}, now)).toMatchObject([
      { code: "handler_not_found", message: 'no worker heard in the last 1 min handles task type "report"' },
    ]);
    expect(v.refusal("noop", { constructor: 1 }, now)[0]?.code).toBe("resource_unsatisfiable");
  });

  it("says whether a live worker could take a task now, apart from whether one heard lately could", () => {
    const v = view();
    v.heard(status("w", 0), 0);
    expect(v.liveWorkerFor("noop", {}, 1_000)).toBe(true);
    expect(v.liveWorkerFor("noop", {}, 10_000)).toBe(false);
    expect(v.refusal("noop", {}, 10_000)).toEqual([]);
  });

  it("refuses nothing right after it starts until it read the store's nodes or listened two heartbeat periods", () => {
    const v = view({ since: 100_000 });
    expect(v.refusal("noop", {}, 100_500)).toEqual([]);
    expect(v.refusal("noop", {}, 102_000)).toMatchObject([
      { code: "handler_not_found", message: "no worker was heard in the last 1 min to run it" },
    ]);
    const seeded = view({ since: 100_000 });
    seeded.recorded([record("w", 99_000)], 100_010);
    expect(seeded.refusal("resize", {}, 100_020)).toEqual([]);
    expect(seeded.refusal("other", {}, 100_020)[0]?.code).toBe("handler_not_found");
  });

  it("learns the workers from the store: known at once, alive when their recorded heartbeat changes, types described", () => {
    const v = view({ since: 50_000 });
    v.recorded([record("w", 49_000), record("stale", 50_000 - WINDOW - 1)], 50_000);
    // Known for placement from the first read, but not alive until news arrives.
    expect(v.members(50_000).map((m) => [m.status.nodeId, m.alive])).toEqual([["w", false]]);
    expect(v.liveWorkerFor("resize", {}, 50_000)).toBe(false);
    v.recorded([record("w", 54_000)], 55_000);
    expect(v.members(55_000).map((m) => [m.status.nodeId, m.alive])).toEqual([["w", true]]);
    expect(v.describeTypes(55_000)).toEqual(record("w", 0).types);
    expect(v.handlerTypes(55_000)).toEqual(["noop", "resize"]);
    // The same recorded heartbeat read again is no news: it dies when it stops recording.
    v.recorded([record("w", 54_000)], 58_500);
    expect(v.members(58_500)[0]?.alive).toBe(false);
    // A worker heard only on the broker is listed by name, its types without descriptions.
    v.heard(status("b", 0, { handlerTypes: ["only_b"] }), 58_500);
    expect(v.describeTypes(58_500).find((t) => t.type === "only_b")).toEqual({
      type: "only_b",
      description: null,
      parameters_schema: null,
      example: null,
    });
  });
});
