import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HttpTaskClient } from "../../src/client/http-task-client.js";
import { defineHandler } from "../../src/handlers/handler.js";
import { isTerminal } from "../../src/protocol/states.js";
import { newDataKey } from "../../src/security/data-cipher.js";
import type { Role } from "../../src/security/roles.js";
import { runCli } from "../helpers/cli.js";
import { type ServiceHarness, startTestService } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";

// Rotating the data key (issue 26.4): a new key for new writes, the old one still read, and
// `taskexec keys rotate --data` sealing everything under the new key while submissions go on;
// after it, the old key can go and nothing is lost.

const echo = defineHandler({ type: "echo", run: ({ parameters }) => Promise.resolve(parameters) });

describe("rotating the data key", () => {
  const tmp = tempDir();
  const running: ServiceHarness[] = [];
  afterAll(async () => {
    for (const h of running) await h.service.close(0).catch(() => {});
    tmp.remove();
  });
  const start = async (security: Record<string, unknown>) => {
    const h = await startTestService({
      handlers: [echo],
      data_dir: tmp.dir,
      store: { url: `sqlite:${join(tmp.dir, "rotated.db")}` },
      // The submissions during the rotation run as long as it does (a slow machine: longer).
      limits: { submit_per_minute: 1_000_000 },
      security,
    });
    running.push(h);
    return h;
  };

  it("reseals every value while submissions go on; then the old key is not needed, and nothing is lost", async () => {
    const [oldKey, newKey] = [newDataKey(), newDataKey()];
    let h = await start({ data_key: oldKey });
    let client = new HttpTaskClient({ url: h.url, token: await h.token("alice", ["submitter"]) });
    const written = new Map<string, number>();
    for (let i = 0; i < 150; i++)
      written.set((await client.submit({ type: "echo", parameters: { i } })).id, i);
    await h.service.close(0);

    // The new key for new writes, the old one still read.
    h = await start({ data_key: newKey, previous_data_keys: [oldKey] });
    client = new HttpTaskClient({ url: h.url, token: await h.token("alice", ["submitter"]) });
    let submitting = true;
    const more = (async () => {
      // Paced, so that a slow machine's long rotation does not pile up thousands of tasks.
      for (let i = 150; submitting && i < 2_000; i++) {
        written.set((await client.submit({ type: "echo", parameters: { i } })).id, i);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const admin = await h.token("root", ["admin"]);
    const rotated = await runCli(
      ["keys", "rotate", "--data", "--batch", "40", "--json", "--url", h.url, "--token", admin],
      { timeoutMs: 90_000 },
    );
    submitting = false;
    await more;
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    const report = JSON.parse(rotated.stdout) as { rewritten: number; batches: number };
    // 150 tasks' parameters, results and statuses at least, in more than one batch.
    expect(report.rewritten).toBeGreaterThanOrEqual(300);
    expect(report.batches).toBeGreaterThan(1);
    // Wait for the last submissions to finish before the key goes.
    for (const id of written.keys()) {
      for (let tries = 0; !isTerminal((await client.get(id)).state); tries++) {
        expect(tries).toBeLessThan(800);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    // One pass is enough: what was written meanwhile went under the new key already, and a
    // value a writer changed while the pass read it was left to the writer (compare and set).
    await h.service.close(0);

    // The old key gone: every task, its result and its statuses read back as written.
    h = await start({ data_key: newKey });
    client = new HttpTaskClient({ url: h.url, token: await h.token("alice", ["submitter"]) });
    expect(written.size).toBeGreaterThan(150);
    for (const [id, i] of written) {
      const task = await client.get(id);
      expect([task.state, task.parameters, task.result]).toEqual(["completed", { i }, { i }]);
    }
    const first = [...written.keys()][0]!;
    const events = await fetch(`${h.url}/v1/tasks/${first}/events`, {
      headers: { authorization: `Bearer ${await h.token("alice", ["submitter"])}` },
    });
    expect(await events.text()).toContain('"result":{"i":0}');
  }, 120_000);

  it("says plainly when no data key is configured, or the token is not an admin's", async () => {
    const h = await startTestService({ handlers: [echo] });
    running.push(h);
    const rotateAs = async (roles: Role[]) =>
      runCli(["keys", "rotate", "--data", "--url", h.url, "--token", await h.token("someone", roles)]);
    const none = await rotateAs(["admin"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no data key is configured");
    const notAdmin = await rotateAs(["submitter"]);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain("forbidden");
    for (const run of [none, notAdmin]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
