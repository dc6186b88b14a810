import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseDuration } from "../../config/duration.js";
import { TaskRejectedError } from "../../protocol/errors.js";
import { EXIT, UsageError } from "../cli-error.js";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.js";
import { statusLine } from "../format.js";
import { follow } from "./follow.js";

interface SubmitOptions extends ConnectionOptions {
  params?: string;
  priority?: string;
  deadline?: string;
  requirements?: string;
  timeoutMs?: string;
  maxAttempts?: string;
  messageId?: string;
  wait?: boolean;
  quiet?: boolean;
  encrypt?: boolean;
}

export function registerSubmit(program: Command, run: (code: number) => void): void {
  withConnection(
    program
      .command("submit <type>")
      .description("submit a task of a handler type")
      .option("-p, --params <json|@file>", "parameters as JSON, or @file holding JSON", "{}")
      .option("--priority <0-9>", "higher runs first", "5")
      .option("--deadline <time>", "RFC 3339 time, or a duration from now (30s, 10m, 2h)")
      .option("--requirements <json>", 'resources, e.g. \'{"cpu":1,"memory_mb":512}\'')
      .option("--timeout-ms <ms>", "fail an attempt that runs longer")
      .option("--max-attempts <n>", "attempts before the task fails")
      .option("--message-id <id>", "idempotency key (default: a new UUID)")
      .option("-w, --wait", "follow the task to its end with a progress bar; exit 0 only if it completed")
      .option("-q, --quiet", "print the task id alone (with --wait: nothing else; the exit code tells)")
      .option("--encrypt", "send the task specification encrypted for the executors' key (GET /v1/keys)"),
  ).action(async (type: string, options: SubmitOptions) => {
    const client = clientFrom(options, { encrypt: options.encrypt });
    let task;
    try {
      task = await client.submit({
        type,
        parameters: jsonObject(readParams(options.params ?? "{}"), "--params"),
        priority: integer(options.priority ?? "5", "--priority"),
        deadline: deadline(options.deadline),
        requirements:
          options.requirements === undefined
            ? undefined
            : (jsonObject(options.requirements, "--requirements") as Record<string, number>),
        timeoutMs: options.timeoutMs === undefined ? undefined : integer(options.timeoutMs, "--timeout-ms"),
        maxAttempts:
          options.maxAttempts === undefined ? undefined : integer(options.maxAttempts, "--max-attempts"),
        messageId: options.messageId,
      });
    } catch (error) {
      if (!(error instanceof TaskRejectedError)) throw error;
      // A rejection is not data: it goes to stderr, as JSON with --json.
      if (options.json)
        console.error(JSON.stringify({ rejected: true, code: error.code, errors: error.issues }));
      else {
        console.error(`rejected (${error.code}):`);
        for (const issue of error.issues) console.error(`  ${issue.path || "(message)"}: ${issue.message}`);
        if (error.code === "handler_not_found")
          console.error("  (taskexec types lists the types this server runs)");
      }
      run(EXIT.failed);
      return;
    }
    // stdout carries the data — the id, the statuses, the result — and always in the same place.
    if (options.quiet) console.log(task.id);
    else if (options.json) console.log(JSON.stringify(task.status));
    else
      console.log(
        `${task.duplicate ? "already submitted" : "accepted"}: ${task.id}\n${statusLine(task.status)}`,
      );
    if (!options.wait) {
      run(EXIT.ok);
      return;
    }
    run(
      await follow(client, task.id, {
        json: options.json,
        quiet: options.quiet,
        // A duplicate's latest status may be its last: follow from it, so the end is seen.
        after: task.status.header.sequence - (task.duplicate ? 1 : 0),
      }),
    );
  });
}

function readParams(value: string): string {
  if (!value.startsWith("@")) return value;
  try {
    return readFileSync(value.slice(1), "utf8");
  } catch {
    throw new UsageError(`--params: cannot read ${value.slice(1)}`);
  }
}

function jsonObject(text: string, flag: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: not valid JSON: ${text.slice(0, 80)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new UsageError(`${flag}: must be a JSON object`);
  return value as Record<string, unknown>;
}

function integer(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag}: must be a whole number, got "${text}"`);
  return Number(text);
}

function deadline(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined && !/^\d+$/.test(text)) return new Date(Date.now() + ms).toISOString();
  if (Number.isNaN(Date.parse(text)))
    throw new UsageError(`--deadline: not a time (RFC 3339) or a duration (10m): "${text}"`);
  return text;
}
