import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/temp.js";

describe("process lifetime", () => {
  it("keeps the process alive while a started executor has scheduled work, and lets it exit after stop()", async () => {
    const tmp = tempDir();
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "fixtures", "retry-child.ts")],
        {
          env: { ...process.env, TASKEXEC_DB: join(tmp.dir, "t.db") },
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      const exit = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          resolve(-1);
        }, 15_000);
        child.on("exit", (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      expect(out.trim().split("\n")).toContain("waiting");
      expect(out.trim().split("\n").pop()).toBe("completed");
      expect(exit).toBe(0);
    } finally {
      tmp.remove();
    }
  });
});
