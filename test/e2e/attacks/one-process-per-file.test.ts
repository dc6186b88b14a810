import { afterEach, describe, expect, it } from "vitest";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { signToken } from "../../../src/security/token-signer.js";
import { freePort, killServes, serve, serveEnv } from "../../helpers/serve.js";
import { TEST_SECRET } from "../../helpers/service.js";
import { tempDir } from "../../helpers/temp.js";

// Hole 8 of the hardening issue: a second `serve` on the same SQLite file started without a word;
// then half the submits failed with "UNIQUE constraint failed: tasks.submit_seq" and the counts
// stayed wrong.
const tmp = tempDir();
afterEach(killServes);

const env = (port: number) => serveEnv(tmp.dir, port);

describe("a second `serve` on the same database", () => {
  it("is refused, naming the process that holds the file and how to run several; a killed holder frees it", async () => {
    const first = serve(env(await freePort()));
    await first.ready;

    const second = serve(env(await freePort()));
    expect(await second.exited).toBe(1);
    const { stderr, stdout } = second.output();
    expect(stderr).toContain(`in use by process ${first.child.pid}`);
    expect(stderr).toContain("PostgreSQL");
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(stdout).not.toContain("is serving at");

    // The first one is untouched.
    const port = Number(/:(\d+)/.exec(first.output().stdout.split("serving at ")[1]!)![1]);
    const client = new TaskClient({
      url: `http://127.0.0.1:${port}`,
      token: await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" }),
    });
    const results = await client.submitMany(Array.from({ length: 20 }, () => ({ type: "noop" })));
    expect(results.every((r) => r.ok)).toBe(true);

    // The lock ends with its process, however it ends.
    first.child.kill("SIGKILL");
    await first.exited;
    const third = serve(env(await freePort()));
    await third.ready;
  });
});
