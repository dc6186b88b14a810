// Links the `taskexec` command into node_modules/.bin, as npm does for a package's dependents:
// `npx taskexec` in this folder then runs the built file at once, instead of npm linking the
// folder as a package (and preparing it) on every first call.
import { chmodSync, existsSync, lstatSync, mkdirSync, symlinkSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const target = join(root, "dist", "src", "cli", "main.js");
const bin = join(root, "node_modules", ".bin");
const link = join(bin, "taskexec");

if (existsSync(target) && existsSync(join(root, "node_modules"))) {
  chmodSync(target, 0o755);
  mkdirSync(bin, { recursive: true });
  if (lstatSync(link, { throwIfNoEntry: false }) !== undefined) unlinkSync(link);
  symlinkSync(join("..", "..", "dist", "src", "cli", "main.js"), link);
}
