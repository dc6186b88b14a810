import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/config-error.js";
import { defineHandler, isHandler } from "../../../src/handlers/handler.js";
import { loadHandlerModules } from "../../../src/handlers/load-modules.js";
import { HandlerRegistry } from "../../../src/handlers/registry.js";
import { tempDir } from "../../helpers/temp.js";

const root = join(import.meta.dirname, "..", "..", "..");

describe("handler modules", () => {
  it("loads the example module by path", async () => {
    const handlers = await loadHandlerModules(["examples/data_processing.ts"], root);
    expect(handlers.map((h) => h.type)).toEqual(["data_processing"]);
    expect(isHandler(handlers[0])).toBe(true);
  });

  it("names the entry of a module that cannot load or exports no handler", async () => {
    const tmp = tempDir();
    try {
      writeFileSync(join(tmp.dir, "empty.mjs"), "export const x = 1;\n");
      await expect(loadHandlerModules(["./missing.mjs"], tmp.dir)).rejects.toThrow(ConfigError);
      const error = await loadHandlerModules(["./empty.mjs"], tmp.dir).catch((e: ConfigError) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems[0]).toMatchObject({ path: "handlers[0]" });
      expect((error as ConfigError).message).toContain("exports no handler");
    } finally {
      tmp.remove();
    }
  });

  it("refuses a second handler for the same type, and a handler without a type", () => {
    const registry = new HandlerRegistry();
    registry.register(defineHandler({ type: "t", run: () => 1 }));
    expect(() => registry.register(defineHandler({ type: "t", run: () => 2 }))).toThrow(/already registered/);
    expect(() => defineHandler({ type: "", run: () => 1 })).toThrow(TypeError);
  });
});
