import { describe, expect, it } from "vitest";
import { decodeResourceStatus, encodeResourceStatus } from "../../../src/resources/resource-status-codec.js";

describe("ResourceStatus (proto/resource_status.proto)", () => {
  it("round-trips a worker's resources", () => {
    const status = {
      nodeId: "vm:123:abcdef",
      bootId: "0b6f3c1e-2f7a-4c1b-9d7e-3a1f2b4c5d6e",
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
      bootId: "",
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

  it("refuses a status past the limits a listener keeps per node", () => {
    const base = {
      nodeId: "n1",
      bootId: "b",
      at: 5,
      capacity: {},
      allocated: {},
      runningTasks: 0,
      waitingTasks: 0,
      handlerTypes: ["x"],
    };
    const kinds = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 1]));
    expect(() => decodeResourceStatus(encodeResourceStatus({ ...base, capacity: kinds }))).toThrow(
      "capacity names more than 64 kinds",
    );
    expect(() => decodeResourceStatus(encodeResourceStatus({ ...base, nodeId: "n".repeat(201) }))).toThrow(
      "node_id is longer than 200",
    );
    expect(() =>
      decodeResourceStatus(
        encodeResourceStatus({ ...base, handlerTypes: Array.from({ length: 1001 }, (_, i) => `t${i}`) }),
      ),
    ).toThrow("handler_types lists more than 1000");
    expect(() => decodeResourceStatus(encodeResourceStatus({ ...base, capacity: { gpu: -1 } }))).toThrow(
      "finite number",
    );
    expect(() => decodeResourceStatus(new Uint8Array(70_000))).toThrow("larger than");
  });
});
