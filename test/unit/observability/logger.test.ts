import { readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileOptions } from "../../../src/config/options.js";
import { componentLogger, createLogger } from "../../../src/observability/logger.js";
import { tempDir } from "../../helpers/temp.js";

const tmp = tempDir();
afterAll(() => tmp.remove());

const linesOf = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("logger", () => {
  it("gives each component its own level over the process's, and names it on each line", () => {
    const file = join(tmp.dir, "levels", "a.log");
    const log = createLogger({
      level: "warn",
      levels: { engine: "debug", http: "error" },
      file,
      format: "json",
    });
    const engine = componentLogger(log, "engine");
    const http = componentLogger(log, "http");
    log.info("root info: below warn");
    log.warn("root warn");
    engine.debug("engine debug");
    http.warn("http warn: below error");
    http.error("http error");
    // Made from any descendant, a component is made from the root: one component per line.
    componentLogger(engine, "store").warn("store warn");
    expect(linesOf(file).map((l) => [l.component ?? null, l.msg])).toEqual([
      [null, "root warn"],
      ["engine", "engine debug"],
      ["http", "http error"],
      ["store", "store warn"],
    ]);
  });

  it("writes a token or an authorization header that reaches it as [redacted]", () => {
    const file = join(tmp.dir, "redact.log");
    const log = createLogger({ level: "info", file, format: "json" });
    log.info({ token: "t0k3n", req: { headers: { authorization: "Bearer t0k3n" } } }, "with secrets");
    log.info({ authorization: "Bearer t0k3n", headers: { authorization: "Bearer t0k3n" } }, "more");
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("t0k3n");
    expect(linesOf(file)[0]).toMatchObject({
      token: "[redacted]",
      req: { headers: { authorization: "[redacted]" } },
    });
  });

  it("reopens its file on SIGHUP, so that a rotated log goes on in a new file", () => {
    const file = join(tmp.dir, "rotate.log");
    const log = createLogger({ level: "info", file, format: "json" });
    log.info("before");
    renameSync(file, `${file}.1`);
    process.emit("SIGHUP", "SIGHUP");
    log.info("after");
    expect(linesOf(`${file}.1`).map((l) => l.msg)).toEqual(["before"]);
    expect(linesOf(file).map((l) => l.msg)).toEqual(["after"]);
  });

  it("is configured by a logging section that refuses an unknown component or format", () => {
    const options = compileOptions({
      logging: { level: "info", levels: { broker: "debug" }, format: "pretty", file: "/var/log/t.log" },
    });
    expect(options.logging).toEqual({
      level: "info",
      levels: { broker: "debug" },
      format: "pretty",
      file: "/var/log/t.log",
    });
    expect(() => compileOptions({ logging: { levels: { nope: "info" } } } as never)).toThrow(
      /logging\.levels/,
    );
    expect(() => compileOptions({ logging: { format: "xml" } } as never)).toThrow(/logging\.format/);
  });
});
