import type { Command } from "commander";
import { EXIT } from "../cli-error.js";
import { type ConnectionOptions, clientFrom, withConnection } from "../connection.js";
import { typeCard } from "../format.js";

/** `types`: the task types the server runs, with their parameters and an example to submit. */
export function registerTypes(program: Command, run: (code: number) => void): void {
  withConnection(
    program
      .command("types [type]")
      .description("list the task types the server runs, with their parameters and an example"),
  ).action(async (only: string | undefined, options: ConnectionOptions) => {
    const all = await clientFrom(options).types();
    const types = only === undefined ? all : all.filter((t) => t.type === only);
    if (only !== undefined && types.length === 0) {
      console.error(`no task type "${only}" on this server (it runs: ${all.map((t) => t.type).join(", ")})`);
      run(EXIT.failed);
      return;
    }
    console.log(options.json ? JSON.stringify({ types }, null, 2) : types.map(typeCard).join("\n\n"));
    run(EXIT.ok);
  });
}
