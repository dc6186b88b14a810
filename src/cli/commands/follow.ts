import { SingleBar } from "cli-progress";
import type { TaskClientApi } from "../../client/task-client.js";
import type { TaskState } from "../../protocol/states.js";
import { EXIT } from "../cli-error.js";
import { statusLine } from "../format.js";

/**
 * Follows a task to its end: a live progress bar on a terminal, one line per status otherwise
 * (JSON lines with `json`). Resolves to the exit code: 0 only when the task completed.
 */
export async function follow(
  client: TaskClientApi,
  id: string,
  options: { json?: boolean; after?: number },
): Promise<number> {
  const bar =
    !options.json && process.stderr.isTTY
      ? new SingleBar({
          format: " {bar} {percentage}% | {state} {event}",
          hideCursor: true,
          clearOnComplete: false,
          stream: process.stderr,
        })
      : undefined;
  bar?.start(100, 0, { state: "", event: "" });
  let last: TaskState | undefined;
  try {
    for await (const status of client.watch(id, { afterSequence: options.after ?? 0 })) {
      last = status.body.status;
      if (options.json) console.log(JSON.stringify(status));
      else if (bar) {
        const progress = status.body.progress;
        bar.update(progress === undefined ? bar.getProgress() * 100 : Math.round(progress * 100), {
          state: status.body.status,
          event: status.body.details?.event ?? "",
        });
        if (status.body.details?.error) bar.updateETA();
      } else console.log(statusLine(status));
      if (last === "completed" || last === "failed" || last === "cancelled" || last === "rejected") {
        if (bar) {
          if (last === "completed") bar.update(100);
          bar.stop();
          console.log(statusLine(status));
        }
        const details = status.body.details;
        if (!options.json && details?.result !== undefined)
          console.log(JSON.stringify(details.result, null, 2));
      }
    }
  } finally {
    bar?.stop();
  }
  return last === "completed" ? EXIT.ok : EXIT.failed;
}
