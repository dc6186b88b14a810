import { describe, expect, it } from "vitest";
import { findJsonProblem } from "../../../src/protocol/json-value.js";

describe("findJsonProblem", () => {
  it("accepts plain JSON up to the depth, and names the path of the first level beyond", () => {
    expect(findJsonProblem({ a: [1, "x", null, true, { b: {} }] })).toBeUndefined();
    expect(findJsonProblem({ a: { b: {} } }, 3)).toBeUndefined();
    expect(findJsonProblem({ a: [{ b: {} }] }, 3)).toEqual({
      path: ["a", 0, "b"],
      message: "nests deeper than 3 levels",
    });
  });

  it("finds what JSON cannot carry, as a library caller may hand it in", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(findJsonProblem(cycle)?.message).toBe("nests deeper than 64 levels");
    expect(findJsonProblem({ n: 10n })).toEqual({
      path: ["n"],
      message: "is a bigint, which JSON cannot carry",
    });
    expect(findJsonProblem({ f: () => 1 })?.path).toEqual(["f"]);
    expect(findJsonProblem({ x: [Number.NaN] })?.path).toEqual(["x", 0]);
    expect(findJsonProblem({ d: new Date(0) })?.message).toBe("must be a plain JSON object");
    expect(findJsonProblem({ u: undefined })).toBeUndefined(); // left out, as JSON.stringify does
  });
});
