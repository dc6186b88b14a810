import { useState } from "preact/hooks";
import { TASK_STATES, type TaskState } from "../api.js";
import { words } from "../format.js";
import { useLiveReload } from "../hooks.js";
import { useSignedIn } from "../session.js";

/** Tasks per state, live; a state is a button that filters the table to it. */
export function CountsBar(props: { selected: TaskState | ""; onSelect(state: TaskState | ""): void }) {
  const { api, feed } = useSignedIn();
  const [counts, setCounts] = useState<Partial<Record<TaskState, number>>>({});
  useLiveReload(feed, async () => setCounts((await api.counts()).counts), 30_000, [api]);

  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return (
    <section class="counts" aria-label="Tasks per state">
      <button
        type="button"
        class="count"
        aria-pressed={props.selected === ""}
        onClick={() => props.onSelect("")}
        data-state="all"
      >
        <span class="n">{total}</span> all
      </button>
      {TASK_STATES.filter((s) => s !== "submitted" && s !== "validating").map((state) => (
        <button
          type="button"
          key={state}
          class={`count state-${state}`}
          aria-pressed={props.selected === state}
          onClick={() => props.onSelect(props.selected === state ? "" : state)}
          data-state={state}
        >
          <span class="n">{counts[state] ?? 0}</span> {words(state)}
        </button>
      ))}
    </section>
  );
}
