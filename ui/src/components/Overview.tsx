import { useState } from "preact/hooks";
import type { TaskState } from "../api.js";
import { useSignedIn } from "../session.js";
import { ActivityCharts } from "./ActivityCharts.js";
import { CountsBar } from "./CountsBar.js";
import { ResourcesPanel } from "./ResourcesPanel.js";
import { TaskTable } from "./TaskTable.js";

export interface Filters {
  state: TaskState | "";
  type: string;
  q: string;
}

/** The first view: counts per state, the last 15 minutes, resources per node, and the task table. */
export function Overview() {
  const { session } = useSignedIn();
  const [filters, setFilters] = useState<Filters>({ state: "", type: "", q: "" });
  return (
    <div class="overview">
      <h1 class="visually-hidden">Overview</h1>
      <p class="scope muted">
        {session.may.see_all_tasks ? "All tenants' tasks" : `Tasks submitted by ${session.principal}`}
      </p>
      <CountsBar selected={filters.state} onSelect={(state) => setFilters({ ...filters, state })} />
      <div class="panels">
        <ActivityCharts />
        <ResourcesPanel />
      </div>
      <TaskTable filters={filters} onFilters={setFilters} />
    </div>
  );
}
