// Embedded in an application, the library keeps out of its stdout unless asked, and writes to
// the application's logger when given one.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../helpers/temp.js";

function runApp(mode: string): Promise<string> {
  const tmp = tempDir();
  return new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "fixtures", "embedded-app.ts"), tmp.dir, mode],
      { timeout: 30_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  ).finally(() => tmp.remove());
}

describe("the library's logging", () => {
  it("writes nothing below warn to the application's stdout by default", async () => {
    expect(await runApp("default")).toBe("app done; own logger got 0 lines\n");
  });

  it("logs at the level asked for, and to the application's own logger when given one", async () => {
    expect(await runApp("info")).toMatch(/"msg":"executor started"[\s\S]*app done/);
    const own = await runApp("own-logger");
    expect(own).toMatch(/^app done; own logger got [1-9]\d* lines\n$/);
  });
});
