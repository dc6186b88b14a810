import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ExecutorOptionsSchema } from "../../../src/config/options.js";
import { REFERENCE, renderConfigurationReference } from "../../../scripts/config-reference.js";

describe("docs/CONFIGURATION.md", () => {
  it("is what the options' schema and doc comments make (npm run docs:config when this fails)", async () => {
    expect(readFileSync(REFERENCE, "utf8")).toBe(await renderConfigurationReference());
  });

  it("has every key, with what it does", () => {
    const text = readFileSync(REFERENCE, "utf8");
    for (const key of Object.keys(ExecutorOptionsSchema.shape)) expect(text).toContain(`\`${key}`);
    expect(text).not.toMatch(/\|\s+\|\n/); // no row without a description
  });
});
