import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
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
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  return isZombie(pid);
}

/**
 * A process that has exited but not been reaped yet still answers signal 0. Seen here: a server
 * killed with SIGKILL whose parent (npm's shell) died with it waits for the machine's init to
 * reap it, and a restart that looked in that window kept the lease for its whole 30 s.
 * Linux only (`/proc`); elsewhere nothing is called a zombie.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state …": comm may hold spaces and parentheses, the state follows the last ")".
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return false;
  }
}
