import { useEffect, useRef, useState } from "preact/hooks";
import { parameterFields } from "../../../src/handlers/parameter-fields.js";
import { ApiError, type HandlerTypeInfo } from "../api.js";
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

const PARAMETERS = "body.task_specification.parameters";

/** An issue's path as the form's fields name it: `ms` rather than `body.task_specification.parameters.ms`. */
function fieldOf(path: string): string {
  if (path === PARAMETERS) return "parameters";
  if (path.startsWith(`${PARAMETERS}.`) || path.startsWith(`${PARAMETERS}[`))
    return path.slice(PARAMETERS.length).replace(/^\./, "");
  return path.replace(/^body\./, "").replace(/^task_specification\./, "");
}

/** The example of a type as the text of the parameters box. */
const exampleText = (info: HandlerTypeInfo | undefined) => JSON.stringify(info?.example ?? {}, null, 2);

/**
 * Submits a `submit_task`: a type (with its parameters described and an example filled in),
 * parameters as JSON, priority, and an optional deadline.
 */
export function SubmitForm() {
  const { api, session } = useSignedIn();
  const [types, setTypes] = useState<HandlerTypeInfo[]>([]);
  const [type, setType] = useState(session.task_types[0] ?? "");
  const [parameters, setParameters] = useState("{}");
  const info = types.find((t) => t.type === type);
  // The type chosen now, and whether the box still holds the example filled in (not the user's
  // text): the descriptions may arrive after a type was chosen, and then fill in its example.
  const chosen = useRef(type);
  const untouched = useRef(true);

  useEffect(() => {
    api.types().then(
      (loaded) => {
        setTypes(loaded);
        if (untouched.current) setParameters(exampleText(loaded.find((t) => t.type === chosen.current)));
      },
      () => undefined, // the form still works without descriptions
    );
  }, [api]);

  const chooseType = (next: string) => {
    chosen.current = next;
    untouched.current = true;
    setType(next);
    setParameters(exampleText(types.find((t) => t.type === next)));
    setProblem(null);
  };
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
      const issues = details?.errors ?? [];
      // The issues once, as a list: the error's message repeats them in one long line.
      setProblem({
        message:
          issues.length > 0
            ? `Not submitted: ${issues.length === 1 ? "one problem" : `${issues.length} problems`} (${error instanceof ApiError ? error.code : "error"})`
            : error instanceof ApiError
              ? `${error.code}: ${error.message}`
              : String(error),
        issues,
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
        <select id="submit-type" value={type} onChange={(e) => chooseType(e.currentTarget.value)} required>
          {session.task_types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        {info?.description && <p class="muted small type-description">{info.description}</p>}
        <label for="submit-parameters">Parameters (JSON object)</label>
        <div class="parameters">
          <textarea
            id="submit-parameters"
            class="mono"
            rows={8}
            spellcheck={false}
            value={parameters}
            aria-invalid={problem !== null && problem.issues.length > 0}
            aria-describedby={problem !== null ? "submit-problem" : "submit-schema"}
            onInput={(e) => {
              untouched.current = false;
              setParameters(e.currentTarget.value);
            }}
          />
          {problem !== null ? (
            <div class="problem" role="alert" id="submit-problem">
              <p>{problem.message}</p>
              {problem.issues.length > 0 && (
                <ul>
                  {problem.issues.map((issue) => (
                    <li key={issue.path + issue.message}>
                      <code>{fieldOf(issue.path)}</code>: {issue.message}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ) : (
            <SchemaFields info={info} />
          )}
        </div>
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

/** The parameters a type takes, from its JSON Schema: name, type, required or default, description. */
function SchemaFields(props: { info: HandlerTypeInfo | undefined }) {
  if (props.info === undefined) return null;
  const fields = parameterFields(props.info.parameters_schema);
  return (
    <div class="schema" id="submit-schema">
      {fields === null ? (
        <p class="muted small">This type does not describe its parameters.</p>
      ) : fields.length === 0 ? (
        <p class="muted small">This type takes no parameters.</p>
      ) : (
        <dl>
          {fields.map((field) => (
            <div key={field.name}>
              <dt>
                <code>{field.name}</code>{" "}
                <span class="muted small">
                  {field.type}
                  {field.required
                    ? ", required"
                    : field.default !== undefined
                      ? `, default ${JSON.stringify(field.default)}`
                      : ", optional"}
                </span>
              </dt>
              {field.description !== undefined && <dd class="small">{field.description}</dd>}
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
