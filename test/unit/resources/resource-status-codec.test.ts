import { describe, expect, it } from "vitest";
import { decodeResourceStatus, encodeResourceStatus } from "../../../src/resources/resource-status-codec.js";

describe("ResourceStatus (proto/resource_status.proto)", () => {
  it("round-trips a worker's resources", () => {
    const status = {
      nodeId: "vm:123:abcdef",
      at: 1_796_328_342_045,
      capacity: { cpu: 4, memory_mb: 8192, gpu: 1, licence: 2.5 },
      allocated: { cpu: 1.5, memory_mb: 512 },
      runningTasks: 3,
      waitingTasks: 1,
      handlerTypes: ["noop", "sleep", "data_processing"],
    };
    expect(decodeResourceStatus(encodeResourceStatus(status))).toEqual({
      ...status,
      protocolVersion: "1.0.0",
    });
  });

  it("writes the wire format the .proto describes (field numbers and types), so other languages read it", () => {
    const bytes = encodeResourceStatus({
      nodeId: "n1",
      at: 5,
      capacity: {},
      allocated: {},
      runningTasks: 0,
      waitingTasks: 0,
      handlerTypes: ["x"],
    });
    // 1: string "n1"; 2: varint 5; 7: repeated string "x"; 8: string "1.0.0" (defaults omitted).
    expect([...bytes]).toEqual([
      0x0a,
      2,
      0x6e,
      0x31,
      0x10,
      5,
      0x3a,
      1,
      0x78,
      0x42,
      5,
      ...Buffer.from("1.0.0"),
    ]);
    expect(decodeResourceStatus(bytes)).toMatchObject({ capacity: {}, runningTasks: 0, handlerTypes: ["x"] });
  });

  it("refuses bytes that are not a ResourceStatus", () => {
    expect(() => decodeResourceStatus(Uint8Array.from([0x0a, 0x10, 0x6e]))).toThrow();
    // A valid message, but no node id: nothing to file it under.
    expect(() => decodeResourceStatus(Uint8Array.from([0x10, 5]))).toThrow("node_id is empty");
  });
});
