import { useState } from "preact/hooks";
import { ApiError } from "../api.js";
import { href } from "../route.js";
import { useSignedIn } from "../session.js";

/** A message id for the submission: random, so a double click submits twice only by intent. */
function messageId(): string {
  // crypto.randomUUID needs a secure context; getRandomValues works on plain http too.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface Problem {
  message: string;
  issues: { path: string; message: string }[];
}

/** Submits a `submit_task`: a known type, parameters as JSON, priority, and an optional deadline. */
export function SubmitForm() {
  const { api, session } = useSignedIn();
  const [type, setType] = useState(session.task_types[0] ?? "");
  const [parameters, setParameters] = useState("{}");
  const [priority, setPriority] = useState(5);
  const [deadline, setDeadline] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [accepted, setAccepted] = useState<string | null>(null);

  const submit = async () => {
    setProblem(null);
    setAccepted(null);
    let parsed: unknown;
    try {
      parsed = JSON.parse(parameters);
    } catch (error) {
      setProblem({ message: `Parameters are not JSON: ${(error as Error).message}`, issues: [] });
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      setProblem({ message: 'Parameters must be a JSON object, like {"ms": 1000}.', issues: [] });
      return;
    }
    const body: Record<string, unknown> = { task_specification: { type, parameters: parsed }, priority };
    if (deadline !== "") body.deadline = new Date(deadline).toISOString();
    setBusy(true);
    try {
      const status = await api.submit({
        type: "submit_task",
        header: {
          message_id: messageId(),
          timestamp: new Date().toISOString(),
          protocol_version: session.protocol_version,
        },
        body,
      });
      setAccepted(status.header.task_id);
    } catch (error) {
      const details =
        error instanceof ApiError ? (error.details as { errors?: Problem["issues"] } | undefined) : undefined;
      setProblem({
        message: error instanceof ApiError ? `${error.code}: ${error.message}` : String(error),
        issues: details?.errors ?? [],
      });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card submit" aria-labelledby="submit-title">
      <h1 id="submit-title">Submit a task</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <label for="submit-type">Type</label>
        <select id="submit-type" value={type} onChange={(e) => setType(e.currentTarget.value)} required>
          {session.task_types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label for="submit-parameters">Parameters (JSON object)</label>
        <textarea
          id="submit-parameters"
          class="mono"
          rows={8}
          spellcheck={false}
          value={parameters}
          onInput={(e) => setParameters(e.currentTarget.value)}
        />
        <div class="row">
          <div>
            <label for="submit-priority">Priority (0–9, higher first)</label>
            <input
              id="submit-priority"
              type="number"
              min={0}
              max={9}
              step={1}
              value={priority}
              onInput={(e) => setPriority(Number(e.currentTarget.value))}
            />
          </div>
          <div>
            <label for="submit-deadline">Deadline (optional, local time)</label>
            <input
              id="submit-deadline"
              type="datetime-local"
              value={deadline}
              onInput={(e) => setDeadline(e.currentTarget.value)}
            />
          </div>
        </div>
        {problem !== null && (
          <div class="problem" role="alert">
            <p>{problem.message}</p>
            {problem.issues.length > 0 && (
              <ul>
                {problem.issues.map((issue) => (
                  <li key={issue.path}>
                    <code>{issue.path}</code>: {issue.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        {accepted !== null && (
          <p class="ok" role="status">
            Accepted: <a href={href({ view: "task", id: accepted })}>task {accepted}</a>
          </p>
        )}
        <button type="submit" disabled={busy || type === ""}>
          {busy ? "Submitting…" : "Submit"}
        </button>
      </form>
    </section>
  );
}
