import type { TaskSnapshot, TaskSummary } from "../engine/task-snapshot.js";
import { parameterFields } from "../handlers/parameter-fields.js";
import type { HandlerTypeInfo } from "../handlers/registry.js";
import type { TaskStatus } from "../protocol/task-status.js";

const percent = (p: number | null | undefined) =>
  p === null || p === undefined ? "" : `${Math.round(p * 100)}%`;

/** One line for a status message; `maxAttempts`, when known, shows attempts as `2/3`. */
export function statusLine(status: TaskStatus, maxAttempts?: number): string {
  const { status: state, progress, details } = status.body;
  const parts = [
    `#${status.header.sequence}`.padEnd(5),
    state.padEnd(19),
    (details?.event ?? "").padEnd(17),
    percent(progress).padStart(4),
  ];
  const attempt = attemptText(status, maxAttempts);
  if (attempt !== "") parts.push(attempt);
  if (details?.retry_at !== undefined) parts.push(`retry at ${details.retry_at}`);
  if (details?.error !== undefined) parts.push(`${details.error.code}: ${details.error.message}`);
  return parts.join("  ").trimEnd();
}

/** `attempt 2/3` for the statuses that start, retry or end an attempt; "" for the rest. */
export function attemptText(status: TaskStatus, maxAttempts?: number): string {
  const { attempt, event } = status.body.details ?? {};
  if (attempt === undefined) return "";
  if (event !== "execution_started" && event !== "retry_scheduled" && event !== "task_failed") return "";
  return `attempt ${attempt}${maxAttempts === undefined ? "" : `/${maxAttempts}`}`;
}

/** A task type as `taskexec types` shows it: what it does, its parameters, and how to submit it. */
export function typeCard(info: HandlerTypeInfo): string {
  const lines = [info.description ? `${info.type} — ${info.description}` : info.type];
  const fields = parameterFields(info.parameters_schema);
  if (fields === null)
    lines.push("  parameters: any JSON object (the handler has no schema that describes itself)");
  else if (fields.length === 0) lines.push("  parameters: none");
  else {
    const width = Math.max(...fields.map((f) => f.name.length));
    for (const field of fields) {
      const facts = [field.type, field.required ? "required" : "optional"];
      if (field.default !== undefined) facts.push(`default ${JSON.stringify(field.default)}`);
      const description = field.description === undefined ? "" : `  ${field.description}`;
      lines.push(`  ${field.name.padEnd(width)}  ${facts.join(", ")}${description}`);
    }
  }
  if (info.example !== null)
    lines.push(`  example: taskexec submit ${info.type} --params '${JSON.stringify(info.example)}'`);
  return lines.join("\n");
}

/** A task's snapshot as labelled lines. */
export function snapshotText(task: TaskSnapshot): string {
  const rows: [string, unknown][] = [
    ["id", task.id],
    ["reference", task.reference_id],
    ["type", task.type],
    ["state", task.state],
    ["progress", percent(task.progress) || "-"],
    ["priority", task.priority],
    ["attempts", `${task.attempts} of ${task.max_attempts}`],
    ["deadline", task.deadline ?? "-"],
    ["created", task.created_at],
    ["started", task.started_at ?? "-"],
    ["finished", task.finished_at ?? "-"],
  ];
  if (Object.keys(task.requirements).length > 0) rows.push(["requires", JSON.stringify(task.requirements)]);
  if (task.error !== null) rows.push(["error", `${task.error.code}: ${task.error.message}`]);
  if (task.result !== null) rows.push(["result", JSON.stringify(task.result, null, 2)]);
  return rows.map(([k, v]) => `${k.padEnd(10)} ${String(v)}`).join("\n");
}

/** Tasks as a table. */
export function taskTable(tasks: readonly TaskSummary[]): string {
  if (tasks.length === 0) return "no tasks";
  const header = ["ID", "TYPE", "STATE", "PROGRESS", "PRIO", "ATTEMPTS", "CREATED"];
  const rows = tasks.map((t) => [
    t.id,
    t.type,
    t.state,
    percent(t.progress) || "-",
    String(t.priority),
    String(t.attempts),
    t.created_at,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
