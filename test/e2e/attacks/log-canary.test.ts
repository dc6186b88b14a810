import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { TaskClient } from "../../../src/client/url-task-client.js";
import { isTerminal } from "../../../src/protocol/states.js";
import type { TaskStatus } from "../../../src/protocol/task-status.js";
import { newDataKey } from "../../../src/security/data-cipher.js";
import { signToken } from "../../../src/security/token-signer.js";
import { freePort, killServes, serve, serveEnv } from "../../helpers/serve.js";
import { tempDir } from "../../helpers/temp.js";

// Issue 28.1: `taskexec serve` at `logging.level: trace` logs every submission, refusal and state
// change, with a retry's and a failure's code and message; and no line holds a task's
// parameters, its result, a token, the JWT secret or the data key (a canary planted in each).

const HANDLERS = fileURLToPath(new URL("../fixtures/canary-handlers.mjs", import.meta.url));
const CANARY = `canary-${Date.now().toString(36)}`;
const SECRET = `${CANARY}-jwt-secret-0123456789abcdef`;
const DATA_KEY = newDataKey();

const tmp = tempDir();
afterAll(() => {
  killServes();
  tmp.remove();
});

type Line = Record<string, unknown> & { msg: string };

async function ended(client: TaskClient, id: string): Promise<TaskStatus> {
  for await (const status of client.watch(id)) if (isTerminal(status.body.status)) return status;
  throw new Error(`the watch of ${id} ended before the task`);
}

describe("the log of a serve process", () => {
  it("has a line per submission, refusal and state change, and no parameters, results, tokens or keys", async () => {
    const port = await freePort();
    const logFile = join(tmp.dir, "logs", "taskexec.log");
    const server = serve(
      serveEnv(tmp.dir, port, {
        TASKEXEC_AUTH__JWT_SECRET: SECRET,
        TASKEXEC_SECURITY__DATA_KEY: DATA_KEY,
        TASKEXEC_LOGGING__LEVEL: "trace",
        TASKEXEC_LOGGING__FILE: logFile,
        TASKEXEC_RETRY__BASE_MS: "10",
        TASKEXEC_RETRY__MAX_MS: "10",
      }),
      ["--handlers", HANDLERS],
    );
    await server.ready;
    const url = `http://127.0.0.1:${port}`;
    const token = await signToken(SECRET, { sub: "alice", roles: ["submitter"], ttl: "1h" });
    const client = new TaskClient({ url, token });
    const params = (what: string) => ({ secret: `${CANARY}-${what}` });

    const echoed = await client.submit({ type: "echo", parameters: params("echo") });
    const flaky = await client.submit({ type: "flaky", parameters: params("flaky") });
    const broken = await client.submit({ type: "broken", parameters: params("broken") });
    expect((await ended(client, echoed.id)).body.details?.result).toEqual(params("echo"));
    expect((await ended(client, flaky.id)).body.status).toBe("completed");
    expect((await ended(client, broken.id)).body.status).toBe("failed");
    // Refused: an unknown type (422), no valid token (401), a submitter on an admin route (403).
    await expect(client.submit({ type: "no_such_type", parameters: params("rejected") })).rejects.toThrow(
      /no_such_type|unknown/,
    );
    const forged = await fetch(`${url}/v1/tasks`, { headers: { authorization: `Bearer ${CANARY}.x.y` } });
    expect(forged.status).toBe(401);
    const notAdmin = await fetch(`${url}/v1/audit`, { headers: { authorization: `Bearer ${token}` } });
    expect(notAdmin.status).toBe(403);
    await client.close();
    server.child.kill("SIGTERM");
    await server.exited;

    expect(existsSync(logFile)).toBe(true);
    const text = readFileSync(logFile, "utf8");
    const { stdout, stderr } = server.output();
    for (const output of [text, stdout, stderr]) {
      expect(output).not.toContain(CANARY);
      expect(output).not.toContain(token);
      expect(output).not.toContain(DATA_KEY);
    }
    const lines = text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Line);
    const about = (id: string) => lines.filter((l) => l.task_id === id);

    // Submissions: who, through which door, which task.
    const accepted = lines.filter((l) => l.msg === "submission accepted");
    expect(accepted.map((l) => l.task_id)).toEqual(expect.arrayContaining([echoed.id, flaky.id, broken.id]));
    expect(accepted[0]).toMatchObject({ component: "submissions", principal: "alice", channel: "http" });
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "submission rejected", principal: "alice", channel: "http" }),
    );
    // Every state change of a task that completed, in order, each naming the task's facts.
    const echoLines = about(echoed.id).filter((l) => l.component === "engine");
    expect(echoLines.map((l) => l.state)).toEqual([
      "resource_allocation",
      "executing",
      "completing",
      "completed",
    ]);
    expect(echoLines.map((l) => l.msg)).toEqual([
      "task accepted",
      "task started",
      "task completing",
      "task completed",
    ]);
    expect(echoLines[0]!.level).toBe(20); // debug: the submission's line says it at info
    expect(echoLines[3]).toMatchObject({ type: "echo", submitter: "alice", attempt: 1, level: 30 });
    expect(typeof echoLines[1]!.node).toBe("string");
    // A retry and a failure, with their codes and messages.
    expect(about(flaky.id)).toContainEqual(
      expect.objectContaining({
        msg: "task attempt failed; retry scheduled",
        error: "the first attempt always fails",
        attempt: 1,
      }),
    );
    expect(about(flaky.id).at(-1)).toMatchObject({ state: "completed", attempt: 2 });
    expect(about(broken.id)).toContainEqual(
      expect.objectContaining({ msg: "task failed", level: 40, error: "broken for good" }),
    );
    // Refused requests: the code and the route, and who when known.
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "request refused", status: 401, code: "unauthenticated" }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "request refused",
        status: 403,
        principal: "alice",
        route: "/v1/audit",
      }),
    );
  }, 60_000);
});
