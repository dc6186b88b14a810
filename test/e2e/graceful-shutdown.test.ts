import { afterEach, describe, expect, it } from "vitest";
import { TaskClient } from "../../src/client/url-task-client.js";
import { signToken } from "../../src/security/token-signer.js";
import { until } from "../helpers/executor.js";
import { freePort, killServes, serve, serveEnv } from "../helpers/serve.js";
import { TEST_SECRET } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

afterEach(killServes);

describe("graceful shutdown of `taskexec serve`", () => {
  it("on SIGTERM lets running tasks finish within the grace, requeues the rest, and loses nothing", async () => {
    const tmp = tempDir();
    try {
      const port = await freePort();
      const env = serveEnv(tmp.dir, port, {
        TASKEXEC_SHUTDOWN_GRACE_MS: "400",
        TASKEXEC_MAX_CONCURRENT_TASKS: "4",
      });
      const first = serve(env);
      await first.ready;
      const client = new TaskClient({
        url: `http://127.0.0.1:${port}`,
        token: await signToken(TEST_SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" }),
      });
      // Two that finish inside the grace, two that do not, and some that are still queued.
      const quick = await client.submitMany([
        { type: "sleep", parameters: { ms: 150 } },
        { type: "sleep", parameters: { ms: 150 } },
      ]);
      const slow = await client.submitMany([
        { type: "sleep", parameters: { ms: 3000 } },
        { type: "sleep", parameters: { ms: 3000 } },
      ]);
      const queued = await client.submitMany(Array.from({ length: 6 }, () => ({ type: "noop" })));
      const ids = [...quick, ...slow, ...queued].map((r) => (r.ok ? r.id : ""));
      expect(ids.every((id) => id !== "")).toBe(true);
      await until(
        async () => (await client.get(ids[2]!)).state === "executing",
        5000,
        "the slow tasks to start",
      );

      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);

      const second = serve(env);
      await second.ready;
      await until(
        async () =>
          (await Promise.all(ids.map((id) => client.get(id)))).every((t) => t.state === "completed"),
        15_000,
        "every task to complete after the restart",
      );
      for (const id of ids.slice(0, 2)) expect((await client.get(id)).attempts).toBe(1);
      // The two slow ones were given back on the way out (not left to lapse): a `waiting` status
      // that says so, their attempt given back, then run again by the second process.
      for (const id of ids.slice(2, 4)) {
        const log: string[] = [];
        for await (const status of client.watch(id)) {
          const details = status.body.details as { event?: string; reason?: string } | undefined;
          log.push(`${status.body.status} ${details?.event ?? details?.reason ?? ""}`);
        }
        expect(log.filter((l) => l === "waiting executor_shutdown")).toHaveLength(1);
        expect(log.filter((l) => l.startsWith("executing execution_started"))).toHaveLength(2);
        expect((await client.get(id)).attempts).toBe(1);
      }
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    } finally {
      tmp.remove();
    }
  }, 40_000);
});
