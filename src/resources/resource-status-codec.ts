import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { PROTOCOL_VERSION } from "../protocol/version.js";

/** One worker's resources as `taskexec.resources` carries them (proto/resource_status.proto). */
export interface ResourceStatus {
  nodeId: string;
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

/** Decodes one; throws (protobufjs's error, with what was wrong) on bytes that are not one, or one without a node id. */
export function decodeResourceStatus(bytes: Uint8Array): ResourceStatus {
  const message = resourceStatusType();
  const { atMs, ...rest } = message.toObject(message.decode(bytes), {
    longs: Number,
    defaults: true,
  }) as Omit<ResourceStatus, "at"> & { atMs: number };
  if (rest.nodeId === "") throw new Error("node_id is empty");
  return { ...rest, at: atMs };
}
