import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { runCli } from "../../helpers/cli.js";
import { freePort, killServes, serve } from "../../helpers/serve.js";
import { tempDir } from "../../helpers/temp.js";

// Hole 9 of the hardening issue: every start with a generated secret printed a fresh 30-day admin
// token to stdout (the logs' stream); the database and its -wal/-shm were 0644 in a 0755 folder;
// `config check --json` printed auth.jwt_secret in clear.
const tmp = tempDir();
afterEach(killServes);

const PRIVATE_FILES = [
  "taskexec.db",
  "taskexec.db-wal",
  "taskexec.db-shm",
  "taskexec.db.lock",
  "taskexec.db.owner",
  "jwt-secret",
  "cli-token",
];
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe("secrets and files of `taskexec serve`", () => {
  it("never prints the admin token to a stdout that is not a terminal, and keeps its files private", async () => {
    const dataDir = join(tmp.dir, "data"); // created by the server
    const port = await freePort();
    const env = {
      TASKEXEC_DATA_DIR: dataDir,
      TASKEXEC_STORE__URL: `sqlite:${join(dataDir, "taskexec.db")}`,
      TASKEXEC_HTTP__PORT: String(port),
      TASKEXEC_LOGGING__LEVEL: "info",
    };
    const outputs: string[] = [];
    for (let start = 0; start < 2; start++) {
      const server = serve(env);
      await server.ready;
      const token = readFileSync(join(dataDir, "cli-token"), "utf8").trim();
      const client = new TaskClient({ url: `http://127.0.0.1:${port}`, token });
      await client.submit({ type: "noop" }); // the WAL and its index exist now
      await new Promise((r) => setTimeout(r, 200));
      // While it runs (a clean stop removes the -wal and -shm files).
      expect(mode(dataDir)).toBe("700");
      for (const file of PRIVATE_FILES) expect([file, mode(join(dataDir, file))]).toEqual([file, "600"]);
      server.child.kill("SIGTERM");
      await server.exited;
      const { stdout, stderr } = server.output();
      expect(stdout + stderr).not.toContain(token);
      expect(stdout).toContain(join(dataDir, "cli-token"));
      outputs.push(stdout + stderr);
    }
    expect(outputs.join("")).not.toMatch(/eyJ[\w-]+\.eyJ/); // no JWT at all
  });

  it("redacts every secret where `config check` prints the configuration", async () => {
    const secret = "s3cret-s3cret-s3cret-s3cret-s3cret-42";
    const result = await runCli(["config", "check", "--json"], {
      cwd: tmp.dir,
      env: {
        TASKEXEC_AUTH__JWT_SECRET: secret,
        TASKEXEC_METRICS__TOKEN: "metrics-token-value",
        TASKEXEC_STORE__URL: "postgres://taskexec:db-password@127.0.0.1/taskexec",
        TASKEXEC_MESSAGE_BROKER_URL: "amqp://guest:broker-password@127.0.0.1:5672",
      },
    });
    expect(result.code).toBe(0);
    for (const value of [secret, "metrics-token-value", "db-password", "broker-password"])
      expect(result.stdout).not.toContain(value);
    const config = (
      JSON.parse(result.stdout) as { config: { auth: { jwt_secret: string }; store: { url: string } } }
    ).config;
    expect(config.auth.jwt_secret).toBe("[redacted]");
    expect(config.store.url).toBe("postgres://taskexec:[redacted]@127.0.0.1/taskexec");
  });
});
