import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderJsonSchemaFiles } from "../../../src/protocol/json-schemas.js";

describe("published JSON Schemas", () => {
  it("are up to date with the zod sources (run `npm run schemas` if this fails)", () => {
    const dir = join(import.meta.dirname, "..", "..", "..", "schemas");
    const files = renderJsonSchemaFiles();
    expect(files.size).toBe(4);
    for (const [name, text] of files) {
      const published = readFileSync(join(dir, name), "utf8");
      expect(published, `schemas/${name} is stale`).toBe(text);
    }
  });
});
