import type { JWK } from "jose";
import type { CompiledOptions } from "../config/options.js";
import type { Principal, TaskExecutor } from "../engine/task-executor.js";
import type { ExecutorMetrics } from "../observability/metrics.js";
import type { RecentActivity } from "../observability/recent-activity.js";
import { actsOnAllTasks, type AuthenticatedPrincipal, seesAllTasks } from "../security/roles.js";
import type { SubmissionGuard } from "../security/submission-guard.js";
import type { Authenticator } from "./authenticator.js";
import type { EventStreams } from "./sse.js";
import type { TaskFeed } from "./task-feed.js";

/** What the routes share. */
export interface ApiContext {
  executor: TaskExecutor;
  auth: Authenticator;
  guard: SubmissionGuard;
  metrics: ExecutorMetrics;
  /** The last 15 minutes, for the dashboard's charts. */
  activity: RecentActivity;
  /** Coalesced task changes, for the dashboard's live table. */
  feed: TaskFeed;
  options: CompiledOptions;
  /** The open event streams (SSE), bounded in number and in what each may buffer. */
  streams: EventStreams;
  /**
   * The cluster's public keys (`GET /v1/keys`): `use: "sig"`, to check what it signs (no secret
   * needed); `use: "enc"`, current first, to encrypt submissions for the executors.
   */
  publicKeys: () => Promise<readonly JWK[]>;
}

/** The engine's view of a caller who reads: executors and admins see every task. */
export const asReader = (p: AuthenticatedPrincipal): Principal => ({ id: p.id, admin: seesAllTasks(p) });

/** The engine's view of a caller who acts (cancel): only admins act on others' tasks. */
/** The engine's view of an authenticated principal; `via` is the door it came in by, for the logs. */
export const asActor = (p: AuthenticatedPrincipal, via?: Principal["via"]): Principal => ({
  id: p.id,
  admin: actsOnAllTasks(p),
  ...(via !== undefined && { via }),
});
