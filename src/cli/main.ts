#!/usr/bin/env node
// The `taskexec` command line (SPEC §8).
import { Command, CommanderError } from "commander";
import { ConfigError } from "../config/config-error.js";
import { TaskexecError } from "../protocol/errors.js";
import { EXIT, UsageError } from "./cli-error.js";
import { registerBroker } from "./commands/broker.js";
import { registerConfig } from "./commands/config-check.js";
import { registerKeys } from "./commands/keys.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerReadCommands } from "./commands/read-commands.js";
import { registerServe } from "./commands/serve.js";
import { registerSubmit } from "./commands/submit.js";
import { registerToken } from "./commands/token.js";
import { registerTypes } from "./commands/types.js";
import { registerWorker } from "./commands/worker.js";
import { tokenHint } from "./connection.js";
import { VERSION } from "../version.js";

let exitCode: number = EXIT.ok;
const run = (code: number) => {
  exitCode = code;
};

const program = new Command("taskexec")
  .description("A durable task executor: submit tasks, watch them, run the server.")
  .version(VERSION)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) })
  .showSuggestionAfterError();

registerServe(program);
registerWorker(program);
registerSubmit(program, run);
registerReadCommands(program, run);
registerTypes(program, run);
registerToken(program, run);
registerConfig(program, run);
registerMigrate(program, run);
registerBroker(program, run);
registerKeys(program, run);
for (const command of program.commands) command.exitOverride();

try {
  if (process.argv.length <= 2) {
    // No command is a mistake in how the CLI was called (2), not a request for help (0).
    program.outputHelp({ error: true });
    throw new UsageError("no command given (see the list above)");
  }
  await program.parseAsync(process.argv);
  // serve keeps running (its signal handlers exit); every other command ends here.
  if (!["serve", "api", "worker"].includes(program.args[0] ?? "")) process.exitCode = exitCode;
} catch (error) {
  process.exitCode = report(error);
}

/** Prints an error the way a user can act on it — never a stack trace for their mistake. */
function report(error: unknown): number {
  if (error instanceof CommanderError) {
    return error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
      ? EXIT.ok
      : EXIT.usage;
  }
  if (error instanceof UsageError) {
    console.error(`error: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    return EXIT.failed;
  }
  if (error instanceof TaskexecError) {
    console.error(`error (${error.code}): ${error.message}`);
    const hint = error.code === "unauthenticated" ? tokenHint() : undefined;
    if (hint !== undefined) console.error(hint);
    return EXIT.failed;
  }
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.TASKEXEC_DEBUG) console.error(error);
  return EXIT.failed;
}
