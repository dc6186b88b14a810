import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/config-error.js";
import { parseDuration } from "../../../src/config/duration.js";
import { compileOptions } from "../../../src/config/options.js";
import { createExecutor } from "../../../src/executor.js";
import { noopHandler } from "../../../src/handlers/builtin/noop.js";

describe("executor options", () => {
  it("fills every default and freezes the result", () => {
    const options = compileOptions({});
    expect(options).toMatchObject({
      mode: "embedded",
      store: { url: "sqlite:data/taskexec.db", synchronous: "full" },
      max_concurrent_tasks: 100,
      retry: { max_attempts: 3, base_ms: 1000, factor: 2, max_ms: 300_000 },
      lease_ms: 30_000,
      retention: 7 * 86_400_000,
      builtins: { http: { enabled: false }, shell: { enabled: false } },
    });
    expect(options.resources.cpu).toBeGreaterThan(0);
    expect(options.resources.memory_mb).toBeGreaterThan(0);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(options.retry)).toBe(true);
  });

  it("freezes its own values, not the application's logger (whose children must still be made)", () => {
    const logger = pino({ level: "silent" });
    const options = compileOptions({ logger, logging: { levels: { engine: "debug" } } });
    expect(options.logger).toBe(logger);
    expect(Object.isFrozen(logger)).toBe(false);
    expect(() => logger.child({ component: "engine" }).info("still works")).not.toThrow();
    expect(Object.isFrozen(options.logging.levels)).toBe(true);
  });

  it("keeps given values next to defaults in the same object", () => {
    const options = compileOptions({
      retry: { base_ms: 5 },
      retention: "12h",
      handlers: [noopHandler, "./x.js"],
    });
    expect(options.retry).toEqual({ max_attempts: 3, base_ms: 5, factor: 2, max_ms: 300_000 });
    expect(options.retention).toBe(12 * 3_600_000);
    expect(options.handlers).toHaveLength(2);
  });

  it("names every bad key with its path", () => {
    let error: unknown;
    try {
      compileOptions({
        max_concurrent_tasks: 0,
        retry: { factor: "fast" as unknown as number },
        retention: "soon",
        resources: { CPU: 2 },
        handlers: [42 as unknown as string],
        node_id: "my node",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const paths = (error as ConfigError).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "max_concurrent_tasks",
        "retry.factor",
        "retention",
        "resources.CPU",
        "handlers[0]",
        "node_id",
      ]),
    );
    expect((error as ConfigError).message).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("leaves whether an object is a handler to createExecutor, which names the entry", async () => {
    const options = { handlers: [noopHandler, { type: "made-by-hand", run: () => ({}) }] };
    expect(() => compileOptions(options as never)).not.toThrow();
    await expect(createExecutor(options as never)).rejects.toMatchObject({
      name: "ConfigError",
      problems: [
        { path: "handlers[1]", message: "must be a module path or a handler made with defineHandler()" },
      ],
    });
  });

  it("parses durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration("7 days")).toBeUndefined();
    expect(parseDuration(-1)).toBeUndefined();
  });
});
