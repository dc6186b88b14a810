import { useEffect, useRef, useState } from "preact/hooks";
import { TASK_STATES, type TaskState } from "../api.js";
import { words } from "../format.js";
import { usePolling } from "../hooks.js";
import { useSignedIn } from "../session.js";

/** How often counts are reloaded at most while changes stream in. */
const RELOAD_MS = 1_000;

/** Tasks per state, live; a state is a button that filters the table to it. */
export function CountsBar(props: { selected: TaskState | ""; onSelect(state: TaskState | ""): void }) {
  const { api, feed } = useSignedIn();
  const [counts, setCounts] = useState<Partial<Record<TaskState, number>>>({});
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const load = async () => setCounts((await api.counts()).counts);
  usePolling(load, 30_000, [api]);
  useEffect(() => {
    const unsubscribe = feed.subscribe(() => {
      pending.current ??= setTimeout(() => {
        pending.current = undefined;
        void load().catch(() => undefined);
      }, RELOAD_MS);
    });
    return () => {
      unsubscribe();
      clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, [feed]);

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
