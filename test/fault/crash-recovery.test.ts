import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteTaskStore } from "../../src/store/sqlite/sqlite-task-store.js";
import { tempDir } from "../helpers/temp.js";

const CHILD = join(import.meta.dirname, "fixtures", "executor-child.ts");
const SELF_KILLING_CHILD = join(import.meta.dirname, "fixtures", "self-killing-child.ts");
const TASKS = 60;
const children = new Set<ChildProcess>();
afterEach(() => {
  // A failed run must not leave a child working on: kill whatever is still alive.
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
});

function startChild(
  env: Record<string, string>,
  script = CHILD,
): {
  child: ChildProcess;
  output: Promise<string>;
  saw: (line: string) => Promise<void>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let out = "";
  let err = "";
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters) if (out.includes(`${w.line}\n`)) w.resolve();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const output = new Promise<string>((resolve) => child.on("exit", () => resolve(out + err)));
  const saw = (line: string) =>
    new Promise<void>((resolve, reject) => {
      if (out.includes(`${line}\n`)) return resolve();
      waiters.push({ line, resolve });
      child.on("exit", (code, signal) =>
        reject(new Error(`child exited (${code ?? signal}) before "${line}": ${out}${err}`)),
      );
    });
  return { child, output, saw };
}

async function killAfter(child: ChildProcess, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise((r) => child.on("exit", r));
  child.kill("SIGKILL");
  await exited;
}

describe("crash recovery (real child processes, SIGKILL)", () => {
  it("finishes every task after three kills: none lost, none stuck, none run after it was terminal", async () => {
    const tmp = tempDir();
    const env = { TASKEXEC_DB: join(tmp.dir, "crash.db"), RUN_LOG: join(tmp.dir, "runs.log") };
    try {
      // 1st process: submits, starts working, is killed mid-flight.
      const first = startChild({ ...env, SUBMIT: String(TASKS) });
      await first.saw("submitted");
      await killAfter(first.child, 250);
      // 2nd and 3rd: recover, work a while, are killed too.
      for (const ms of [400, 300]) {
        const next = startChild(env);
        await next.saw("running");
        await killAfter(next.child, ms);
      }
      const killedMidRun = readFileSync(env.RUN_LOG, "utf8").trim().split("\n").length;
      // Last process: runs until nothing is unfinished.
      const last = startChild({ ...env, UNTIL_DONE: "1" });
      await last.saw("done");
      await last.output;

      const store = await openSqliteTaskStore({ path: env.TASKEXEC_DB });
      try {
        const tasks = await store.listTasks({ limit: 1000 });
        expect(tasks).toHaveLength(TASKS);
        const runs = readFileSync(env.RUN_LOG, "utf8")
          .trim()
          .split("\n")
          .map((line) => line.split(" "));
        expect(killedMidRun).toBeGreaterThan(0);
        for (const task of tasks) {
          expect(task.state, `task ${task.id}`).toBe("completed");
          const statuses = await store.getStatuses(task.id);
          expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
          expect(statuses.filter((s) => s.body.status === "completed")).toHaveLength(1);
          expect(statuses[statuses.length - 1]!.body.status).toBe("completed");
          const starts = runs.filter(([id]) => id === task.id).map(([, , at]) => Number(at));
          expect(starts.length).toBeGreaterThan(0);
          for (const at of starts) expect(at).toBeLessThanOrEqual(task.finishedAt!);
        }
        // Tasks cut off by a kill were recovered as lost executors and retried.
        const lost = (await Promise.all(tasks.map((t) => store.getStatuses(t.id))))
          .flat()
          .filter((s) => s.body.details?.error?.code === "executor_lost");
        expect(lost.length).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    } finally {
      tmp.remove();
    }
  }, 60_000);

  it("counts the attempt of a handler that kills its own process: it fails after max_attempts instead of looping", async () => {
    // The handler starts before its start is synced to disk; it must still be committed (so that
    // it survives this crash), or every restart would run the task again as its first attempt.
    const tmp = tempDir();
    const env = { TASKEXEC_DB: join(tmp.dir, "poison.db"), RUN_LOG: join(tmp.dir, "runs.log") };
    try {
      const exits: (string | number | null)[] = [];
      for (let run = 0; run < 5; run++) {
        const { child, output } = startChild(run === 0 ? { ...env, SUBMIT: "1" } : env, SELF_KILLING_CHILD);
        const out = await output;
        exits.push(child.signalCode ?? child.exitCode);
        if (out.includes("done\n")) break;
      }
      // Two runs died with their handler, the third recovered the task as failed and exited.
      expect(exits).toEqual(["SIGKILL", "SIGKILL", 0]);
      const runs = readFileSync(env.RUN_LOG, "utf8").trim().split("\n");
      expect(runs.map((line) => line.split(" ")[1])).toEqual(["1", "2"]);

      const store = await openSqliteTaskStore({ path: env.TASKEXEC_DB });
      try {
        const [task] = await store.listTasks({ limit: 10 });
        expect(task?.state).toBe("failed");
        expect(task?.attempts).toBe(2);
        expect(task?.error?.code).toBe("executor_lost");
        const statuses = await store.getStatuses(task!.id);
        expect(statuses.map((s) => s.header.sequence)).toEqual(statuses.map((_, i) => i + 1));
        expect(statuses.filter((s) => s.body.details?.event === "execution_started")).toHaveLength(2);
      } finally {
        await store.close();
      }
    } finally {
      tmp.remove();
    }
  }, 60_000);
});
