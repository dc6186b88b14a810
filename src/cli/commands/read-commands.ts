import type { Command } from "commander";
import { isTerminal, TASK_STATES, type TaskState } from "../../protocol/states.js";
import { EXIT, UsageError } from "../cli-error.js";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.js";
import { snapshotText, statusLine, taskTable } from "../format.js";
import { follow } from "./follow.js";

/** `status`, `watch`, `list` and `cancel`: the commands that read or steer one server's tasks. */
export function registerReadCommands(program: Command, run: (code: number) => void): void {
  withConnection(program.command("status <id>").description("show a task")).action(
    async (id: string, options: ConnectionOptions) => {
      const task = await clientFrom(options).get(id);
      console.log(options.json ? JSON.stringify(task, null, 2) : snapshotText(task));
      run(EXIT.ok);
    },
  );

  withConnection(
    program
      .command("watch <id>")
      .description("follow a task's statuses until it ends; exit 0 only if it completed")
      .option("--after <sequence>", "start after this sequence", "0"),
  ).action(async (id: string, options: ConnectionOptions & { after: string }) => {
    run(await follow(clientFrom(options), id, { json: options.json, after: Number(options.after) || 0 }));
  });

  withConnection(
    program
      .command("list")
      .description("list tasks, newest first")
      .option("--state <state>", `one of ${TASK_STATES.join(", ")}`)
      .option("--type <type>", "only this task type")
      .option("--limit <n>", "at most this many (1–1000)", "20")
      .option("--cursor <cursor>", "the next page, as printed by the previous one"),
  ).action(
    async (
      options: ConnectionOptions & { state?: string; type?: string; limit: string; cursor?: string },
    ) => {
      if (options.state !== undefined && !(TASK_STATES as readonly string[]).includes(options.state)) {
        throw new UsageError(`--state: must be one of ${TASK_STATES.join(", ")}`);
      }
      const page = await clientFrom(options).list({
        state: options.state as TaskState | undefined,
        type: options.type,
        limit: Number(options.limit),
        cursor: options.cursor,
      });
      if (options.json)
        console.log(JSON.stringify({ tasks: page.tasks, next_cursor: page.nextCursor }, null, 2));
      else {
        console.log(taskTable(page.tasks));
        if (page.nextCursor) console.log(`\nmore: --cursor ${page.nextCursor}`);
      }
      run(EXIT.ok);
    },
  );

  withConnection(
    program
      .command("cancel <id>")
      .description("cancel a task")
      .option("--reason <text>", "why (kept in the task's history)"),
  ).action(async (id: string, options: ConnectionOptions & { reason?: string }) => {
    const client = clientFrom(options);
    // Looked up first: a finished task cannot be cancelled, and the answer should say so.
    const task = await client.get(id);
    const status = isTerminal(task.state) ? undefined : await client.cancel(task.id, options.reason);
    const state = status?.body.status ?? task.state;
    if (status !== undefined) console.log(options.json ? JSON.stringify(status) : statusLine(status));
    else if (options.json) console.log(JSON.stringify({ id: task.id, state, cancelled: false }));
    if (state === "cancelled" && status !== undefined) run(EXIT.ok);
    else {
      console.error(`not cancelled: already ${state} (task ${task.id})`);
      run(EXIT.failed);
    }
  });
}
