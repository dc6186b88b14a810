import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { PROTOCOL_VERSION } from "../protocol/version.js";

/** One worker's resources as `taskexec.resources` carries them (proto/resource_status.proto). */
export interface ResourceStatus {
  nodeId: string;
  /** Which run of the node's process this is ("" from a sender that does not say). */
  bootId: string;
  /** Milliseconds since the epoch. */
  at: number;
  capacity: Record<string, number>;
  allocated: Record<string, number>;
  runningTasks: number;
  waitingTasks: number;
  handlerTypes: string[];
  protocolVersion: string;
}

// From src/resources/ and from dist/src/resources/ alike: the build copies proto/ to dist/proto.
const PROTO = fileURLToPath(new URL("../../proto/resource_status.proto", import.meta.url));
let type: protobuf.Type | undefined;

function resourceStatusType(): protobuf.Type {
  type ??= protobuf.loadSync(PROTO).lookupType("taskexec.v1.ResourceStatus");
  return type;
}

/** Encodes a worker's resource status as the protobuf message the other processes read. */
export function encodeResourceStatus(status: Omit<ResourceStatus, "protocolVersion">): Uint8Array {
  const message = resourceStatusType();
  return message
    .encode(
      message.fromObject({
        nodeId: status.nodeId,
        bootId: status.bootId,
        atMs: status.at,
        capacity: status.capacity,
        allocated: status.allocated,
        runningTasks: status.runningTasks,
        waitingTasks: status.waitingTasks,
        handlerTypes: status.handlerTypes,
        protocolVersion: PROTOCOL_VERSION,
      }),
    )
    .finish();
}

/** What one status may hold at most: a listener keeps every node's, so each is bounded. */
export const RESOURCE_STATUS_LIMITS = {
  bytes: 64 * 1024,
  nodeId: 200,
  bootId: 64,
  kinds: 64,
  handlerTypes: 1_000,
  typeName: 200,
} as const;

/**
 * Decodes one; throws (protobufjs's error, with what was wrong) on bytes that are not one, one
 * without a node id, or one past {@link RESOURCE_STATUS_LIMITS}.
 */
export function decodeResourceStatus(bytes: Uint8Array): ResourceStatus {
  const limits = RESOURCE_STATUS_LIMITS;
  if (bytes.length > limits.bytes) throw new Error(`larger than ${limits.bytes} bytes`);
  const message = resourceStatusType();
  const { atMs, ...rest } = message.toObject(message.decode(bytes), {
    longs: Number,
    defaults: true,
  }) as Omit<ResourceStatus, "at"> & { atMs: number };
  if (rest.nodeId === "") throw new Error("node_id is empty");
  if (rest.nodeId.length > limits.nodeId)
    throw new Error(`node_id is longer than ${limits.nodeId} characters`);
  if (rest.bootId.length > limits.bootId)
    throw new Error(`boot_id is longer than ${limits.bootId} characters`);
  for (const [name, amounts] of [
    ["capacity", rest.capacity],
    ["allocated", rest.allocated],
  ] as const) {
    const kinds = Object.entries(amounts);
    if (kinds.length > limits.kinds) throw new Error(`${name} names more than ${limits.kinds} kinds`);
    if (kinds.some(([, amount]) => !Number.isFinite(amount) || amount < 0))
      throw new Error(`${name} holds an amount that is not a finite number ≥ 0`);
  }
  if (rest.handlerTypes.length > limits.handlerTypes)
    throw new Error(`handler_types lists more than ${limits.handlerTypes} types`);
  if (rest.handlerTypes.some((t) => t.length > limits.typeName))
    throw new Error(`a handler type is longer than ${limits.typeName} characters`);
  return { ...rest, at: atMs };
}
