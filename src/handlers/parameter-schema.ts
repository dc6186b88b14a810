import type { StandardSchemaV1 } from "@standard-schema/spec";
import { z } from "zod";
import { formatPath, type ValidationIssue } from "../protocol/issues.js";

/**
 * A handler's parameter schema: anything that implements Standard Schema v1 (`~standard`) —
 * zod 4, zod 3.24 and newer, valibot, arktype and others. The task's parameters are checked with
 * it at submission, and the handler gets the value it returns (defaults and transforms applied).
 */
export type ParameterSchema<P> = StandardSchemaV1<unknown, P>;

export type ParameterCheck = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks parameters against a handler's schema. Submission is answered synchronously, so a schema
 * whose validation is asynchronous (a Standard Schema may return a promise) is reported as an
 * issue rather than awaited.
 */
export function checkParameters(
  schema: ParameterSchema<unknown>,
  value: unknown,
  prefix: string,
): ParameterCheck {
  const result = schema["~standard"].validate(value);
  if (result instanceof Promise) {
    result.catch(() => undefined);
    return {
      ok: false,
      issues: [
        {
          path: prefix,
          message:
            "the handler's parameter schema validates asynchronously; taskexec needs a synchronous one",
          code: "validation_failed",
        },
      ],
    };
  }
  if (result.issues === undefined) return { ok: true, value: result.value };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({
      path: formatPath(
        (issue.path ?? []).map((segment) => (typeof segment === "object" ? segment.key : segment)),
        prefix,
      ),
      message: issue.message,
      code: "validation_failed",
    })),
  };
}

/** A schema object that can describe itself as JSON Schema, as arktype's types can. */
interface SelfDescribing {
  toJsonSchema(): unknown;
}

/**
 * The JSON Schema (draft 2020-12) of what a handler's parameters accept, for `GET /v1/types` and
 * the dashboard's form: zod 4 schemas convert themselves (anything without a JSON form, such as a
 * refinement, is left out and still checked at submission); other validators are described when
 * they offer a JSON Schema of their own (Standard JSON Schema, or arktype's `toJsonSchema`), and
 * are `undefined` otherwise.
 */
export function parametersJsonSchema(
  schema: ParameterSchema<unknown> | undefined,
): Record<string, unknown> | undefined {
  if (schema === undefined) return undefined;
  try {
    // zod 4 (classic or mini) marks its schemas with `_zod`.
    if ("_zod" in schema)
      return z.toJSONSchema(schema as z.core.$ZodType, { io: "input", unrepresentable: "any" });
    const standard = schema["~standard"] as { jsonSchema?: { input?: (o: { target: string }) => unknown } };
    if (typeof standard.jsonSchema?.input === "function")
      return standard.jsonSchema.input({ target: "draft-2020-12" }) as Record<string, unknown>;
    const own = (schema as Partial<SelfDescribing>).toJsonSchema;
    if (typeof own === "function") return own.call(schema) as Record<string, unknown>;
  } catch {
    // A schema that cannot describe itself is still a good schema: it is just not shown.
  }
  return undefined;
}
