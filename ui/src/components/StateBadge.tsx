import type { TaskState } from "../api.js";
import { words } from "../format.js";

export function StateBadge(props: { state: TaskState }) {
  return <span class={`badge state-${props.state}`}>{words(props.state)}</span>;
}
