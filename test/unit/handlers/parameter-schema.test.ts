// Handler parameters take any Standard Schema: zod 4, zod 3 (here `zod/v3`, the same API), and a
// validator taskexec knows nothing of, written against the spec alone.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import { defineHandler } from "../../../src/handlers/handler.js";
import { checkParameters, parametersJsonSchema } from "../../../src/handlers/parameter-schema.js";
import { HandlerRegistry } from "../../../src/handlers/registry.js";

/** A schema for `{ n: number }` by the spec alone, as valibot or arktype would offer one. */
const standardOnly: StandardSchemaV1<unknown, { n: number }> = {
  "~standard": {
    version: 1,
    vendor: "hand-written",
    validate: (value) =>
      typeof value === "object" && value !== null && typeof (value as { n?: unknown }).n === "number"
        ? { value: { n: (value as { n: number }).n } }
        : { issues: [{ message: "n must be a number", path: [{ key: "n" }] }] },
  },
};

describe("handler parameter schemas", () => {
  it("types and checks parameters with zod 4, zod 3 and a plain Standard Schema", () => {
    const v4 = defineHandler({
      type: "v4",
      parameters: z.object({ n: z.number(), unit: z.string().default("ms") }),
      run: ({ parameters }) => {
        expectTypeOf(parameters).toEqualTypeOf<{ n: number; unit: string }>();
        return parameters.n;
      },
    });
    const v3 = defineHandler({
      type: "v3",
      parameters: z3.object({ n: z3.number() }),
      run: ({ parameters }) => {
        expectTypeOf(parameters).toEqualTypeOf<{ n: number }>();
        return parameters.n;
      },
    });
    const plain = defineHandler({
      type: "plain",
      parameters: standardOnly,
      run: ({ parameters }) => {
        expectTypeOf(parameters).toEqualTypeOf<{ n: number }>();
        return parameters.n;
      },
    });
    for (const handler of [v4, v3, plain]) {
      expect(checkParameters(handler.parameters!, { n: 1 }, "p")).toMatchObject({ ok: true });
      const bad = checkParameters(handler.parameters!, { n: "one" }, "body.parameters");
      expect(bad.ok).toBe(false);
      expect(bad.ok ? [] : bad.issues.map((i) => i.path)).toEqual(["body.parameters.n"]);
    }
    // The handler gets the schema's output: defaults filled in.
    expect(checkParameters(v4.parameters!, { n: 1 }, "p")).toEqual({ ok: true, value: { n: 1, unit: "ms" } });
  });

  it("describes zod 4 parameters as JSON Schema, and the others as nothing rather than wrongly", () => {
    expect(parametersJsonSchema(z.object({ n: z.number().describe("how many") }))).toMatchObject({
      type: "object",
      properties: { n: { type: "number", description: "how many" } },
      required: ["n"],
    });
    expect(parametersJsonSchema(z3.object({ n: z3.number() }))).toBeUndefined();
    expect(parametersJsonSchema(standardOnly)).toBeUndefined();
    const registry = new HandlerRegistry();
    registry.register(
      defineHandler({
        type: "t",
        description: "d",
        example: { n: 2 },
        parameters: standardOnly,
        run: () => 1,
      }),
    );
    expect(registry.describe()).toEqual([
      { type: "t", description: "d", parameters_schema: null, example: { n: 2 } },
    ]);
  });

  it("refuses an example that fails the schema, and a schema that is not one", () => {
    expect(() =>
      defineHandler({
        type: "t",
        parameters: z.object({ n: z.number() }),
        example: { n: "x" },
        run: () => 1,
      }),
    ).toThrow(/example.*n/);
    expect(() => defineHandler({ type: "t", parameters: {} as never, run: () => 1 })).toThrow(
      /Standard Schema/,
    );
  });

  it("reports an asynchronous schema as an issue instead of waiting for it", () => {
    const slow: StandardSchemaV1<unknown, unknown> = {
      "~standard": { version: 1, vendor: "x", validate: (value) => Promise.resolve({ value }) },
    };
    const checked = checkParameters(slow, {}, "body.parameters");
    expect(checked).toMatchObject({
      ok: false,
      issues: [{ path: "body.parameters", message: expect.stringMatching(/synchronous/) }],
    });
  });
});
