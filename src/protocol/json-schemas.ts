import { z } from "zod";
import { MESSAGE_SCHEMAS, type MessageType } from "./messages.js";
import { PROTOCOL_VERSION } from "./version.js";

/**
 * The JSON Schemas of every protocol message, generated from the zod sources (never written by
 * hand). `npm run schemas` writes them into `schemas/`; a test fails when those files are stale.
 */
export function messageJsonSchemas(): Record<`${MessageType}.schema.json`, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, schema] of Object.entries(MESSAGE_SCHEMAS)) {
    out[`${type}.schema.json`] = {
      ...z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }),
      $id: `https://taskexec.dev/schemas/${PROTOCOL_VERSION}/${type}.schema.json`,
      title: type,
    };
  }
  return out;
}

/** The exact text written for each schema file (stable key order, trailing newline). */
export function renderJsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(messageJsonSchemas())) {
    files.set(name, `${JSON.stringify(schema, null, 2)}\n`);
  }
  return files;
}
