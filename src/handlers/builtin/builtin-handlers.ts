import type { CompiledOptions } from "../../config/options.js";
import type { AnyTaskHandler } from "../handler.js";
import { createHttpHandler } from "./http.js";
import { noopHandler } from "./noop.js";
import { createShellHandler } from "./shell.js";
import { sleepHandler } from "./sleep.js";

/** The built-ins of SPEC §10: `noop` and `sleep` always, `http` and `shell` when enabled. */
export function builtinHandlers(builtins: CompiledOptions["builtins"]): AnyTaskHandler[] {
  const handlers: AnyTaskHandler[] = [noopHandler, sleepHandler];
  if (builtins.http.enabled) handlers.push(createHttpHandler(builtins.http));
  if (builtins.shell.enabled) handlers.push(createShellHandler(builtins.shell));
  return handlers;
}
