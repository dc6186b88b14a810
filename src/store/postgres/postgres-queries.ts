import { fileURLToPath } from "node:url";
import { readSqlFiles } from "../sql-files.js";

const QUERY_NAMES = [
  "insert_tasks",
  "select_tasks_by_message",
  "select_latest_events",
  "update_tasks",
  "select_task",
  "select_tasks",
  "select_task_by_message",
  "select_events",
  "select_events_by_key",
  "select_ended_between",
  "select_ready",
  "select_ready_after",
  "claim_ready",
  "claim_tasks",
  "release_claims",
  "select_due_retries",
  "select_overdue",
  "select_lost_leases",
  "select_lease_owners",
  "renew_leases",
  "next_wake",
  "list_tasks",
  "find_task_ids",
  "count_by_state",
  "queue_depth",
  "active_task_counts",
  "active_resource_sums",
  "lock_submitters",
  "select_taken_keys",
  "insert_audit",
  "select_audit",
  "select_audit_newest",
  "delete_finished",
  "delete_old_audit",
  "reserve_submit_numbers",
  "record_node",
  "select_nodes",
  "delete_node",
  "select_outbox",
  "delete_outbox",
  "release_lapsed_claims",
  "reannounce_ready",
  "take_submit_tokens",
  "select_reseal_tasks",
  "reseal_tasks",
  "select_reseal_statuses",
  "reseal_statuses",
  "select_reseal_audit",
  "reseal_audit",
] as const;

export type PostgresQueries = Record<(typeof QUERY_NAMES)[number], string>;

const QUERIES_DIR = fileURLToPath(new URL("./queries", import.meta.url));

/** The store's statements, one per `.sql` file (each headed by a comment naming its parameters). */
export function readPostgresQueries(): PostgresQueries {
  return readSqlFiles(QUERIES_DIR, QUERY_NAMES);
}
