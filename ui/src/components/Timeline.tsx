import { useState } from "preact/hooks";
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

/** A status alone, or a run of progress updates shown as one row that opens. */
type TimelineItem = { status: TaskStatus } | { updates: TaskStatus[] };

/** Runs shorter than this stay as they are: a row that opens to two rows saves nothing. */
const MIN_RUN = 3;

/** Groups each attempt's consecutive progress updates, so a long task's timeline stays short. */
export function timelineItems(statuses: TaskStatus[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  let run: TaskStatus[] = [];
  const flush = () => {
    if (run.length >= MIN_RUN) items.push({ updates: run });
    else for (const status of run) items.push({ status });
    run = [];
  };
  for (const status of statuses) {
    if (status.body.details?.event === "progress_update") {
      run.push(status);
      continue;
    }
    flush();
    items.push({ status });
  }
  flush();
  return items;
}

/** The task's statuses in sequence order, growing as they come. */
export function Timeline(props: { statuses: TaskStatus[] }) {
  const statuses = [...props.statuses].sort((a, b) => a.header.sequence - b.header.sequence);
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="timeline-title">
        <table class="timeline stack">
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
            {timelineItems(statuses).map((item) =>
              "status" in item ? (
                <StatusRow key={item.status.header.sequence} status={item.status} />
              ) : (
                <ProgressRun key={`run-${item.updates[0]!.header.sequence}`} updates={item.updates} />
              ),
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function StatusRow(props: { status: TaskStatus; nested?: boolean }) {
  const s = props.status;
  return (
    <tr data-sequence={s.header.sequence} class={props.nested ? "nested" : undefined}>
      <td class="num" data-label="#">
        {s.header.sequence}
      </td>
      <td data-label="State">
        <StateBadge state={s.body.status} />
      </td>
      <td data-label="Event">{words(s.body.details?.event ?? "")}</td>
      <td class="mono small" title={s.header.timestamp} data-label="Time">
        {clockTime(s.header.timestamp)}
      </td>
      <td data-label="Details">{detailText(s)}</td>
    </tr>
  );
}

/** One row for a run of progress updates: how many, from what to what; opens to show each. */
function ProgressRun(props: { updates: TaskStatus[] }) {
  const [open, setOpen] = useState(false);
  const first = props.updates[0]!;
  const last = props.updates[props.updates.length - 1]!;
  const pct = (s: TaskStatus) => `${Math.round((s.body.progress ?? 0) * 100)} %`;
  return (
    <>
      <tr class="run" data-sequence={`${first.header.sequence}-${last.header.sequence}`}>
        <td class="num" data-label="#">
          {first.header.sequence}–{last.header.sequence}
        </td>
        <td data-label="State">
          <StateBadge state={last.body.status} />
        </td>
        <td data-label="Event">
          <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "▾" : "▸"} {props.updates.length} progress updates
          </button>
        </td>
        <td class="mono small" title={first.header.timestamp} data-label="Time">
          {clockTime(first.header.timestamp)}
        </td>
        <td data-label="Details">
          {pct(first)} → {pct(last)}
        </td>
      </tr>
      {open && props.updates.map((s) => <StatusRow key={s.header.sequence} status={s} nested />)}
    </>
  );
}
