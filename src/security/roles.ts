import { TaskexecError } from "../protocol/errors.js";

export const ROLES = ["submitter", "executor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type Permission = "submit_task" | "monitor_task" | "execute_task" | "admin";

const PERMISSIONS: Record<Role, readonly Permission[]> = {
  submitter: ["submit_task", "monitor_task"],
  executor: ["execute_task", "monitor_task"],
  admin: ["submit_task", "monitor_task", "execute_task", "admin"],
};

/** Who a verified token (or the local CLI) speaks for. */
export interface AuthenticatedPrincipal {
  id: string;
  roles: readonly Role[];
}

export function can(principal: AuthenticatedPrincipal, permission: Permission): boolean {
  return principal.roles.some((role) => PERMISSIONS[role].includes(permission));
}

/** Throws `forbidden` unless the principal has the permission. */
export function authorize(principal: AuthenticatedPrincipal, permission: Permission): void {
  if (!can(principal, permission)) {
    throw new TaskexecError(
      "forbidden",
      `${principal.id} (${principal.roles.join(", ") || "no roles"}) may not ${permission}`,
    );
  }
}

/** Executors and admins see every task; a submitter sees only its own. */
export const seesAllTasks = (p: AuthenticatedPrincipal): boolean =>
  p.roles.includes("admin") || p.roles.includes("executor");

/** Only admins act on other principals' tasks (cancel). */
export const actsOnAllTasks = (p: AuthenticatedPrincipal): boolean => p.roles.includes("admin");
