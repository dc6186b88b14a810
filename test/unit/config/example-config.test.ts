import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load-config.js";
import { compileOptions, ExecutorOptionsSchema } from "../../../src/config/options.js";

const root = join(import.meta.dirname, "..", "..", "..");

describe("config.example.yaml", () => {
  it("is valid and documents the true defaults", () => {
    const { options } = loadConfig({ file: join(root, "config.example.yaml"), env: {} });
    expect(options).toEqual(compileOptions({}));
  });

  it("mentions every top-level key", async () => {
    const { readFileSync } = await import("node:fs");
    const text = readFileSync(join(root, "config.example.yaml"), "utf8");
    for (const key of Object.keys(ExecutorOptionsSchema.shape)) {
      expect(text, `config.example.yaml does not mention ${key}`).toMatch(new RegExp(`^#? ?${key}:`, "m"));
    }
  });
});
