import type { TaskState } from "../api.js";

/**
 * A task's progress, 0–100 %, coloured by outcome (`data-outcome`: running, completed, failed,
 * cancelled); a completed task is full even when its handler never reported.
 */
export function ProgressBar(props: { value: number | null; state: TaskState; label: string }) {
  const value = props.state === "completed" ? 1 : (props.value ?? 0);
  const percent = Math.round(value * 100);
  return (
    <span class="progress" data-outcome={outcome(props.state)}>
      <progress max={1} value={value} aria-label={props.label} aria-valuetext={`${percent} %`} />
      <span class="pct" aria-hidden="true">
        {percent} %
      </span>
    </span>
  );
}

function outcome(state: TaskState): string {
  if (state === "completed" || state === "failed" || state === "cancelled") return state;
  return state === "rejected" ? "failed" : "running";
}
