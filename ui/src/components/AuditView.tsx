import { useEffect, useState } from "preact/hooks";
import type { AuditEntry } from "../api.js";
import { clockTime, shortId, words } from "../format.js";
import { href } from "../route.js";
import { useSignedIn } from "../session.js";

/** The audit trail (admins): who submitted or cancelled what, what was decided and why. Newest first. */
export function AuditView() {
  const { api } = useSignedIn();
  const [filter, setFilter] = useState({ principal: "", task_id: "" });
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = async (before?: number) => {
    try {
      const page = await api.audit({ ...filter, ...(before !== undefined && { before }) });
      setEntries((current) => (before === undefined ? page.entries : [...current, ...page.entries]));
      setNext(page.next_before);
      setProblem(null);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };
  useEffect(() => void load(), [api, filter.principal, filter.task_id]);

  return (
    <section class="card audit" aria-labelledby="audit-title">
      <div class="section-head">
        <h1 id="audit-title">Audit trail</h1>
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label>
            Principal
            <input
              value={filter.principal}
              onChange={(e) => setFilter({ ...filter, principal: e.currentTarget.value.trim() })}
            />
          </label>
          <label>
            Task id
            <input
              value={filter.task_id}
              onChange={(e) => setFilter({ ...filter, task_id: e.currentTarget.value.trim() })}
            />
          </label>
        </form>
      </div>
      {problem !== null && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      <div class="table-wrap" tabIndex={0} role="region" aria-labelledby="audit-title">
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Principal</th>
              <th scope="col">Action</th>
              <th scope="col">Decision</th>
              <th scope="col">Reason</th>
              <th scope="col">Task</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-decision={e.decision}>
                <td class="mono small" title={e.at} data-label="Time">
                  {clockTime(e.at)}
                </td>
                <td data-label="Principal">{e.principal}</td>
                <td data-label="Action">{words(e.action)}</td>
                <td data-label="Decision">
                  {words(e.decision)}
                  {e.code !== null && e.code !== e.decision && <span class="code"> {e.code}</span>}
                </td>
                <td data-label="Reason" class="reason">
                  {e.reason ?? "—"}
                </td>
                <td class="mono small" data-label="Task">
                  {e.task_id === null ? (
                    "—"
                  ) : (
                    <a href={href({ view: "task", id: e.task_id })} title={e.task_id}>
                      {shortId(e.task_id)}
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {entries.length === 0 && problem === null && <p class="empty">No audit records match.</p>}
      </div>
      {next !== null && (
        <button type="button" onClick={() => void load(next)}>
          Load more
        </button>
      )}
    </section>
  );
}
