import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, TASK_STATES, type TaskRow } from "../api.js";
import { age, shortId, words } from "../format.js";
import { useNow } from "../hooks.js";
import { href } from "../route.js";
import { useSignedIn } from "../session.js";
import type { Filters } from "./Overview.js";
import { ProgressBar } from "./ProgressBar.js";
import { StateBadge } from "./StateBadge.js";

const PAGE_SIZE = 25;

/** Whether a live row belongs in a table with these filters (as the server's list would say). */
function matches(row: TaskRow, filters: Filters): boolean {
  if (filters.state !== "" && row.state !== filters.state) return false;
  if (filters.type !== "" && row.type !== filters.type) return false;
  const q = filters.q.trim();
  if (q !== "" && !row.id.startsWith(q) && !row.reference_id.startsWith(q) && !row.type.includes(q))
    return false;
  return true;
}

/**
 * The task table: newest first, a page at a time, filtered by state, type and text. Rows change in
 * place as the live feed reports; on the first page new tasks appear at the top.
 */
export function TaskTable(props: { filters: Filters; onFilters(filters: Filters): void }) {
  const { api, feed, session } = useSignedIn();
  const { filters } = props;
  const now = useNow();
  const [rows, setRows] = useState<TaskRow[]>([]);
  /** Cursors of the pages before this one (the first page's is undefined). */
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [next, setNext] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [reloads, setReloads] = useState(0);
  const [q, setQ] = useState(filters.q);
  const cursor = cursors[cursors.length - 1];
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    api
      .tasks(
        {
          state: filters.state || undefined,
          type: filters.type || undefined,
          q: filters.q.trim() || undefined,
          cursor,
          limit: PAGE_SIZE,
        },
        controller.signal,
      )
      .then((page) => {
        setRows(page.tasks);
        setNext(page.next_cursor);
        setProblem(null);
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setProblem(error instanceof ApiError ? error.message : String(error));
      })
      .finally(() => setLoading(false));
    return () => controller.abort();
  }, [api, filters.state, filters.type, filters.q, cursor, reloads]);

  // A new filter starts from the first page.
  useEffect(() => setCursors([undefined]), [filters.state, filters.type, filters.q]);

  // Debounce typing in the search box.
  useEffect(() => {
    if (q === filters.q) return;
    const timer = setTimeout(() => props.onFilters({ ...filtersRef.current, q }), 300);
    return () => clearTimeout(timer);
  }, [q]);

  const firstPage = cursors.length === 1;
  useEffect(
    () =>
      feed.subscribe((change) => {
        if (change.kind === "resync") {
          setReloads((n) => n + 1);
          return;
        }
        setRows((current) => {
          const byId = new Map(change.tasks.map((t) => [t.id, t]));
          const f = filtersRef.current;
          const updated = current
            .map((row) => byId.get(row.id) ?? row)
            .filter((row) => !byId.has(row.id) || matches(row, f));
          if (!firstPage) return updated;
          const shown = new Set(current.map((r) => r.id));
          const newest = current[0]?.created_at ?? "";
          const fresh = change.tasks
            .filter((t) => !shown.has(t.id) && t.created_at >= newest && matches(t, f))
            .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
          return fresh.length === 0 ? updated : [...fresh, ...updated].slice(0, PAGE_SIZE);
        });
      }),
    [feed, firstPage],
  );

  return (
    <section class="tasks card" aria-labelledby="tasks-title">
      <div class="section-head">
        <h2 id="tasks-title">Tasks</h2>
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label>
            State
            <select
              value={filters.state}
              onChange={(e) =>
                props.onFilters({ ...filters, state: e.currentTarget.value as Filters["state"] })
              }
            >
              <option value="">any</option>
              {TASK_STATES.map((s) => (
                <option key={s} value={s}>
                  {words(s)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Type
            <select
              value={filters.type}
              onChange={(e) => props.onFilters({ ...filters, type: e.currentTarget.value })}
            >
              <option value="">any</option>
              {session.task_types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label>
            Search
            <input
              type="search"
              placeholder="id, reference or type"
              value={q}
              onInput={(e) => setQ(e.currentTarget.value)}
            />
          </label>
        </form>
      </div>
      {problem !== null && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="tasks-title">
        <table class="stack" aria-busy={loading} aria-describedby="tasks-title">
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col">Progress</th>
              <th scope="col" class="narrow-hide">
                Priority
              </th>
              <th scope="col" class="narrow-hide">
                Attempts
              </th>
              {session.may.see_all_tasks && (
                <th scope="col" class="narrow-hide">
                  Submitter
                </th>
              )}
              <th scope="col" class="narrow-hide">
                Node
              </th>
              <th scope="col">Age</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id} data-task-id={row.id} data-state={row.state}>
                <td data-label="Id">
                  <a class="mono" href={href({ view: "task", id: row.id })} title={row.id}>
                    {shortId(row.id)}
                  </a>
                </td>
                <td data-label="Type">{row.type}</td>
                <td data-label="State">
                  <StateBadge state={row.state} />
                  {row.error !== null && <span class="code"> {row.error.code}</span>}
                </td>
                <td data-label="Progress">
                  <ProgressBar value={row.progress} state={row.state} label={`Progress of ${row.id}`} />
                </td>
                <td class="narrow-hide num">{row.priority}</td>
                <td class="narrow-hide num">
                  {row.attempts}/{row.max_attempts}
                </td>
                {session.may.see_all_tasks && <td class="narrow-hide">{row.submitter}</td>}
                <td class="narrow-hide mono small" title={row.node ?? undefined}>
                  {row.node ?? "—"}
                </td>
                <td title={row.created_at} data-label="Age">
                  {age(row.created_at, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!loading && rows.length === 0 && <p class="empty">No tasks match.</p>}
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={firstPage} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button
          type="button"
          disabled={next === null}
          onClick={() => next !== null && setCursors([...cursors, next])}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}
