import { z } from "zod";
import { findJsonProblem } from "./json-value.js";
import { SUPPORTED_PROTOCOL_VERSION } from "./version.js";

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** A message id: 1–128 characters (code points) of well-formed Unicode, no control characters. */
export const MessageId = z
  .string()
  .min(1, "must be 1 to 128 characters long")
  .max(256, "must be 1 to 128 characters long")
  .refine((s) => s.isWellFormed(), "must be well-formed Unicode (no lone surrogates)")
  .refine((s) => !CONTROL_CHARACTERS.test(s), "must not contain control characters")
  .refine((s) => {
    const length = [...s].length;
    return length >= 1 && length <= 128;
  }, "must be 1 to 128 characters long");

/** An RFC 3339 date-time with an explicit offset (`Z` or `+02:00`). */
export const Timestamp = z.iso.datetime({ offset: true });

export const ProtocolVersion = z
  .string()
  .regex(SUPPORTED_PROTOCOL_VERSION, "unsupported protocol version (this executor speaks 1.x)");

/** A resource kind: `cpu`, `memory_mb`, `gpu`, or a custom name. */
export const ResourceKind = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,63}$/, "must be a lower-case name of letters, digits and _ (at most 64)");

/** Resource requirements: amounts per kind, finite and ≥ 0. */
export const Requirements = z.record(ResourceKind, z.number().min(0, "must be ≥ 0"));

export const Priority = z
  .int({
    error: (issue) => (issue.input === undefined ? "is required (an integer 0–9)" : "must be an integer"),
  })
  .min(0, "must be 0–9")
  .max(9, "must be 0–9");

/**
 * A JSON object (the handler checks its own shape), nested at most 64 levels (`MAX_JSON_DEPTH`):
 * deeper is refused here with its path, before anything encodes it.
 */
export const JsonObject = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const problem = findJsonProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
});
