// `npm start` on a fresh clone: builds once when dist/ is missing (npm install does not build:
// the package has no install scripts), then links the `taskexec` command.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
if (!existsSync(join(root, "dist", "src", "cli", "main.js"))) {
  process.stderr.write(
    "taskexec: first start, building dist/ (about 10 s; `npm run build` after you change the source)\n",
  );
  execSync("npm run build", { cwd: root, stdio: "inherit" });
}
