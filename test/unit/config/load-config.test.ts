import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config/config-error.js";
import { loadConfig } from "../../../src/config/load-config.js";
import { tempDir } from "../../helpers/temp.js";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.remove());

const write = (text: string) => {
  const file = join(tmp.dir, "config.yaml");
  writeFileSync(file, text);
  return file;
};

function problems(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config.yaml loading", () => {
  it("reads the file, interpolates ${VAR} and ${VAR:-default}, and applies TASKEXEC_ overrides", () => {
    const file = write(
      [
        "max_concurrent_tasks: 7",
        "store:",
        "  url: sqlite:${DB_DIR}/x.db",
        "http:",
        "  host: ${HOST:-0.0.0.0}",
        "message_broker_url: amqp://localhost:5672",
      ].join("\n"),
    );
    const env = {
      DB_DIR: "/var/lib/t",
      TASKEXEC_HTTP__PORT: "9000",
      TASKEXEC_AUTH__JWT_SECRET: "12345678901234567890123456789012",
      TASKEXEC_RETRY__MAX_ATTEMPTS: "5",
      TASKEXEC_URL: "http://ignored-by-config",
    };
    const { options, file: read } = loadConfig({ env, cwd: tmp.dir });
    expect(read).toBe(file);
    expect(options.store.url).toBe("sqlite:/var/lib/t/x.db");
    expect(options.http).toMatchObject({ host: "0.0.0.0", port: 9000 });
    expect(options.auth.jwt_secret).toBe("12345678901234567890123456789012");
    expect(options.retry.max_attempts).toBe(5);
    expect(options.max_concurrent_tasks).toBe(7);
    expect(options.message_broker_url).toBe("amqp://localhost:5672");
  });

  it("keeps the default of every resource kind TASKEXEC_RESOURCES does not name (the README's GPU worker, issue 25.4)", () => {
    const { options } = loadConfig({ env: { TASKEXEC_RESOURCES: '{"cpu":8,"gpu":1}' }, cwd: tmp.dir });
    expect(options.resources).toMatchObject({ cpu: 8, gpu: 1 });
    expect(options.resources.memory_mb).toBeGreaterThan(0);
    // Naming a kind with 0 is how a node offers none of it.
    const none = loadConfig({ env: { TASKEXEC_RESOURCES: '{"memory_mb":0}' }, cwd: tmp.dir });
    expect(none.options.resources.memory_mb).toBe(0);
    expect(none.options.resources.cpu).toBeGreaterThan(0);
  });

  it("works with no file at all", () => {
    expect(loadConfig({ env: {}, cwd: tmp.dir })).toMatchObject({
      file: undefined,
      options: { http: { port: 8080 } },
    });
  });

  it("names the key of each problem: wrong types, unknown keys, missing variables", () => {
    write("http:\n  port: eighty\n  prot: 1\nretry:\n  factor: 0\nstore:\n  url: ${NOPE}\n");
    expect(problems(() => loadConfig({ env: {}, cwd: tmp.dir })).map((p) => p.path)).toEqual(["store.url"]);
    write("http:\n  port: eighty\n  prot: 1\nretry:\n  factor: 0\nmax_concurent_tasks: 3\n");
    const found = problems(() => loadConfig({ env: {}, cwd: tmp.dir }));
    expect(found.map((p) => p.path)).toEqual(
      expect.arrayContaining(["http.port", "http", "retry.factor", "(root)"]),
    );
    expect(found.map((p) => p.message).join(" ")).toMatch(/prot/);
    expect(found.map((p) => p.message).join(" ")).toMatch(/max_concurent_tasks/);
  });

  it("reports YAML syntax errors and a file that is not a mapping", () => {
    write("http: [unclosed\n");
    expect(problems(() => loadConfig({ env: {}, cwd: tmp.dir }))[0]!.path).toBe("(file)");
    write("- a\n- b\n");
    expect(problems(() => loadConfig({ env: {}, cwd: tmp.dir }))[0]!.path).toBe("(root)");
    expect(problems(() => loadConfig({ env: {}, cwd: tmp.dir, file: "missing.yaml" }))[0]!.message).toMatch(
      /no config file/,
    );
  });

  it("refuses a bad override by its key", () => {
    expect(
      problems(() => loadConfig({ env: { TASKEXEC_HTTP__PORT: "high" }, cwd: tmp.dir })).map((p) => p.path),
    ).toEqual(["http.port"]);
  });
});
