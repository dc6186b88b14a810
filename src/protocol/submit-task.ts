import { z } from "zod";
import { JsonObject, MessageId, Priority, ProtocolVersion, Requirements, Timestamp } from "./fields.js";

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, "must be base64url");

/**
 * A submitter's public key (a JWK) to encrypt the task's result for: RSA of 2048 bits or more
 * (`RSA-OAEP-256`), or EC P-256/384/521 and X25519 (`ECDH-ES+A256KW`), always with `A256GCM`.
 * Never a private key: one with `d` (or any other private part) is refused, not stored.
 */
export const ResultKey = z
  .discriminatedUnion("kty", [
    z.object({
      kty: z.literal("RSA"),
      // 2048 bits are 256 bytes: 342 base64url characters.
      n: base64url.min(342, "must be 2048 bits or more"),
      e: base64url,
    }),
    z.object({ kty: z.literal("EC"), crv: z.enum(["P-256", "P-384", "P-521"]), x: base64url, y: base64url }),
    z.object({ kty: z.literal("OKP"), crv: z.literal("X25519"), x: base64url }),
  ])
  .and(z.object({ kid: z.string().max(200).optional() }))
  .and(
    z.looseObject({}).refine((jwk) => !["d", "p", "q", "dp", "dq", "qi", "oth", "k"].some((k) => k in jwk), {
      message: "must be a public key: it has a private part",
    }),
  );
export type ResultKey = z.infer<typeof ResultKey>;

export const TaskSpecification = z.object({
  type: z.string().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  parameters: JsonObject.default({}),
  requirements: Requirements.optional(),
  timeout_ms: z.int("must be an integer").positive("must be positive").optional(),
  max_attempts: z.int("must be an integer").min(1, "must be 1–100").max(100, "must be 1–100").optional(),
  /** Encrypt the result for this key: statuses and snapshots then carry it as a JWE compact string. */
  result_key: ResultKey.optional(),
});
export type TaskSpecification = z.infer<typeof TaskSpecification>;

export const SubmitTaskHeader = z.object({
  message_id: MessageId,
  timestamp: Timestamp,
  auth: z.string().min(1).optional(),
  protocol_version: ProtocolVersion.optional(),
});
export type SubmitTaskHeader = z.infer<typeof SubmitTaskHeader>;

export const SubmitTaskBody = z.object({
  /** The specification, or a JWE compact string of it (message-level encryption). */
  task_specification: z.union([TaskSpecification, z.string().min(1)]),
  priority: Priority,
  deadline: Timestamp.optional(),
});
export type SubmitTaskBody = z.infer<typeof SubmitTaskBody>;

/** `submit_task` (submitter → executor), SPEC §2. */
export const SubmitTask = z.object({
  type: z.literal("submit_task"),
  header: SubmitTaskHeader,
  body: SubmitTaskBody,
});
export type SubmitTask = z.infer<typeof SubmitTask>;

/**
 * The part of a `submit_task` that must be readable before a rejection can even be addressed
 * (it names the message being rejected). Failing this is a malformed message (HTTP 400);
 * failing the rest is a rejection (HTTP 422).
 */
export const SubmitTaskEnvelope = z.object({
  type: z.literal("submit_task"),
  header: z.object({ message_id: MessageId }).loose(),
  body: z.unknown(),
});
