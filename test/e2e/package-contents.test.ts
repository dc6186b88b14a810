// Issue 28.11: what `npm pack` publishes is whole: the licence package.json names, every file the
// README links to, and the sources every shipped source map points at.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const packed = (): Set<string> => {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set(pack!.files.map((f) => f.path));
};

describe("the published package", () => {
  const files = packed();
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    license: string;
    exports: Record<string, Record<string, string>>;
  };

  it("holds a LICENSE of the kind package.json names", () => {
    expect(files.has("LICENSE")).toBe(true);
    expect(manifest.license).toBe("MIT");
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });

  it("holds every file the README links to", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!.split("#")[0]!)
      .filter((link) => link !== "" && !/^[a-z]+:/i.test(link));
    expect(links.length).toBeGreaterThan(5);
    const shipped = (link: string) =>
      link.endsWith("/") ? [...files].some((f) => f.startsWith(normalize(link))) : files.has(normalize(link));
    expect([...new Set(links)].filter((link) => !shipped(link))).toEqual([]);
  });

  it("ships the sources its source maps point at", () => {
    const maps = [...files].filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(50);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(root, map), "utf8")) as { sources: string[] };
      return sources.map((s) => normalize(join(dirname(map), s))).filter((s) => !files.has(s));
    });
    expect(missing).toEqual([]);
  });

  it("is ESM only, and the README says so", () => {
    expect(Object.keys(manifest.exports["."]!)).not.toContain("require");
    expect(readFileSync(join(root, "README.md"), "utf8")).toMatch(/ESM only/);
  });
});
