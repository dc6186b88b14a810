import { useEffect, useState } from "preact/hooks";
import type { AuditEntry } from "../api.js";
import { clockTime } from "../format.js";
import { href } from "../route.js";
import { useSignedIn } from "../session.js";

/** The audit trail (admins): who submitted or cancelled what, and what was decided. Oldest first. */
export function AuditView() {
  const { api } = useSignedIn();
  const [filter, setFilter] = useState({ principal: "", task_id: "" });
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const load = async (after?: number) => {
    try {
      const page = await api.audit({ ...filter, ...(after !== undefined && { after }) });
      setEntries((current) => (after === undefined ? page.entries : [...current, ...page.entries]));
      setNext(page.next_after);
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
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Principal</th>
              <th scope="col">Action</th>
              <th scope="col">Decision</th>
              <th scope="col">Task</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td class="mono small" title={e.at}>
                  {clockTime(e.at)}
                </td>
                <td>{e.principal}</td>
                <td>{e.action}</td>
                <td>{e.decision}</td>
                <td class="mono small">
                  {e.taskId === null ? "—" : <a href={href({ view: "task", id: e.taskId })}>{e.taskId}</a>}
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
