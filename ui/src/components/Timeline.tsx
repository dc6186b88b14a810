import type { TaskStatus } from "../api.js";
import { clockTime, words } from "../format.js";
import { StateBadge } from "./StateBadge.js";

/** What a status says beyond its state and event, in a few words. */
function detailText(status: TaskStatus): string {
  const { details, progress } = status.body;
  const parts: string[] = [];
  if (details?.attempt !== undefined) parts.push(`attempt ${details.attempt}`);
  if (progress !== undefined) parts.push(`${Math.round(progress * 100)} %`);
  if (details?.node !== undefined) parts.push(`on ${details.node}`);
  if (details?.error !== undefined) parts.push(`${details.error.code}: ${details.error.message}`);
  if (typeof details?.retry_at === "string") parts.push(`retry at ${clockTime(details.retry_at)}`);
  if (typeof details?.reason === "string") parts.push(details.reason);
  return parts.join(" · ");
}

/** The task's statuses in sequence order, growing as they come. */
export function Timeline(props: { statuses: TaskStatus[] }) {
  const statuses = [...props.statuses].sort((a, b) => a.header.sequence - b.header.sequence);
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="timeline-title">
        <table class="timeline">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">State</th>
              <th scope="col">Event</th>
              <th scope="col">Time</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody aria-live="polite">
            {statuses.map((s) => (
              <tr key={s.header.sequence} data-sequence={s.header.sequence}>
                <td class="num">{s.header.sequence}</td>
                <td>
                  <StateBadge state={s.body.status} />
                </td>
                <td>{words(s.body.details?.event ?? "")}</td>
                <td class="mono small" title={s.header.timestamp}>
                  {clockTime(s.header.timestamp)}
                </td>
                <td>{detailText(s)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
