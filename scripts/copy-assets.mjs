// Copies the non-TypeScript files the build needs into dist/: SQL migrations and queries (beside
// their modules), and proto/ (to dist/proto, where the compiled codec finds it as in the source tree).
import { cpSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "..");
const src = join(root, "src");
const dist = join(root, "dist", "src");

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(".sql")) cpSync(path, join(dist, relative(src, path)));
  }
}
walk(src);
cpSync(join(root, "proto"), join(root, "dist", "proto"), { recursive: true });
