import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** A node id that says where it runs: `host:pid:random`, so a dead local owner can be spotted. */
export function newNodeId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/**
 * True when `owner` names a process on this host that no longer exists: its leases can be taken
 * back at once instead of after they expire (an embedded executor restarted after a crash).
 * Unknown shapes, other hosts, and live or unprobeable processes are never called dead.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const [host, pidText] = owner.split(":");
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
