import { SingleBar } from "cli-progress";
import type { TaskClientApi } from "../../client/task-client.js";
import { isTerminal, type TaskState } from "../../protocol/states.js";
import type { TaskStatus } from "../../protocol/task-status.js";
import { EXIT } from "../cli-error.js";
import { attemptText, statusLine } from "../format.js";

/** How the statuses are shown: a live bar (text at a terminal), lines, JSON lines, or nothing. */
export interface FollowOptions {
  json?: boolean | undefined;
  quiet?: boolean | undefined;
  after?: number;
}

/** The exit code of a Ctrl-C: the shell's convention for a SIGINT (128 + 2). */
const INTERRUPTED = 130;

/**
 * Follows a task to its end: a live progress bar on a terminal (on stderr), one line per status
 * otherwise (JSON lines with `json`; nothing with `quiet`). The final status and the result go to
 * stdout. Resolves to the exit code: 0 only when the task completed. A Ctrl-C stops following,
 * not the task, and says so.
 */
export async function follow(client: TaskClientApi, id: string, options: FollowOptions): Promise<number> {
  // The bar shows `attempt 2/3`: the limit is the task's, which only its snapshot has.
  const snapshot = options.json || options.quiet ? undefined : await client.get(id);
  const maxAttempts = snapshot?.max_attempts;
  const taskId = snapshot?.id ?? id; // an abbreviation, resolved once
  const bar =
    !options.json && !options.quiet && process.stderr.isTTY
      ? new SingleBar({
          format: " {bar} {percentage}% | {state} {detail}",
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        })
      : undefined;
  bar?.start(100, 0, { state: "", detail: "" });
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);
  let last: TaskState | undefined;
  let attempt = ""; // kept between statuses: a progress update does not say which attempt it is of
  try {
    for await (const status of client.watch(taskId, {
      afterSequence: options.after ?? 0,
      signal: stop.signal,
    })) {
      last = status.body.status;
      if (options.json) console.log(JSON.stringify(status));
      else if (bar) {
        const progress = status.body.progress;
        attempt = attemptText(status, maxAttempts) || attempt;
        bar.update(progress === undefined ? bar.getProgress() * 100 : Math.round(progress * 100), {
          state: status.body.status,
          detail: barDetail(status, attempt),
        });
      } else if (!options.quiet) console.log(statusLine(status, maxAttempts));
      if (isTerminal(last)) {
        if (bar) {
          if (last === "completed") bar.update(100);
          bar.stop();
          console.log(statusLine(status, maxAttempts));
        }
        const details = status.body.details;
        if (!options.json && !options.quiet && details?.result !== undefined)
          console.log(JSON.stringify(details.result, null, 2));
      }
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    process.removeListener("SIGINT", interrupt);
    bar?.stop();
  }
  if (stop.signal.aborted && (last === undefined || !isTerminal(last))) {
    console.error(
      `\nstopped watching; task ${id} goes on.\n  follow it again: taskexec watch ${id}\n  stop it:         taskexec cancel ${id}`,
    );
    return INTERRUPTED;
  }
  return last === "completed" ? EXIT.ok : EXIT.failed;
}

/** What the bar says beside the state: the event, the attempt, and the error that caused a retry. */
function barDetail(status: TaskStatus, attempt: string): string {
  const details = status.body.details;
  const parts = [details?.event ?? "", attempt];
  if (details?.error !== undefined) parts.push(`— ${details.error.code}: ${details.error.message}`);
  if (details?.retry_at !== undefined) parts.push(`(retry at ${details.retry_at.slice(11, 19)})`);
  return parts.filter((p) => p !== "").join(" ");
}
