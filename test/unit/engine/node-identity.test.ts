import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { isDeadLocalOwner, newNodeId } from "../../../src/engine/node-identity.js";

describe("isDeadLocalOwner", () => {
  it("calls a live local process alive, and never this process, another host or a strange id dead", () => {
    expect(isDeadLocalOwner(newNodeId())).toBe(false);
    expect(isDeadLocalOwner(`${hostname()}:1:abc`)).toBe(false);
    expect(isDeadLocalOwner(`another-host:999999:abc`)).toBe(false);
    expect(isDeadLocalOwner("not a node id")).toBe(false);
  });

  it("calls a local process dead once it has exited, even while it is a zombie nobody has reaped", async () => {
    // `sleep 0.1` in the background, then the shell becomes `sleep 5`, which never reaps it:
    // the first sleep stays a zombie for the rest of those five seconds.
    const parent = spawn("sh", ["-c", "sleep 0.1 & echo $!; exec sleep 5"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const pid = await new Promise<number>((resolve) =>
        parent.stdout.once("data", (d: Buffer) => resolve(Number(d))),
      );
      expect(isDeadLocalOwner(`${hostname()}:${pid}:abc`)).toBe(false);
      await new Promise((r) => setTimeout(r, 400));
      expect(isDeadLocalOwner(`${hostname()}:${pid}:abc`)).toBe(true);
    } finally {
      parent.kill("SIGKILL");
    }
  });
});
