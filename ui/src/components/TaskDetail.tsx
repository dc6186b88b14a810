import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, isTerminal, type TaskSnapshot, type TaskStatus } from "../api.js";
import { followEventStream } from "../event-stream.js";
import { age, prettyJson } from "../format.js";
import { useNow } from "../hooks.js";
import { href } from "../route.js";
import { useSignedIn } from "../session.js";
import { ProgressBar } from "./ProgressBar.js";
import { StateBadge } from "./StateBadge.js";
import { Timeline } from "./Timeline.js";

/** One task: its fields, parameters and result, error, the live timeline, and Cancel. */
export function TaskDetail(props: { id: string }) {
  const { api, session } = useSignedIn();
  const now = useNow(1_000);
  const [task, setTask] = useState<TaskSnapshot | null>(null);
  const [statuses, setStatuses] = useState<TaskStatus[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const reload = useRef<() => void>(() => undefined);

  useEffect(() => {
    const controller = new AbortController();
    setTask(null);
    setStatuses([]);
    setProblem(null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let loaded = false;
    const load = () =>
      api.task(props.id).then(
        (snapshot) => {
          if (controller.signal.aborted) return;
          loaded = true;
          setTask(snapshot);
          setProblem(null);
        },
        (error: unknown) => {
          if (controller.signal.aborted) return;
          // A server that is restarting is no problem with the task: keep what is shown; the
          // stream reconnects, and its next status reloads the snapshot.
          if (loaded && error instanceof ApiError && error.code === "unreachable") return;
          setProblem(
            error instanceof ApiError && error.status === 404
              ? `No task ${props.id} that this token may see.`
              : error instanceof Error
                ? error.message
                : String(error),
          );
        },
      );
    // Statuses come one by one; the snapshot (result, error, progress) is reloaded at most every 250 ms.
    reload.current = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        void load();
      }, 250);
    };
    // The server also ends the stream when it restarts: follow until the task's last status,
    // resuming after a break from the last sequence seen.
    const stream = new AbortController();
    controller.signal.addEventListener("abort", () => stream.abort());
    void load().then(() =>
      followEventStream(
        `/v1/tasks/${encodeURIComponent(props.id)}/events`,
        api.token,
        stream.signal,
        {
          onEvent: (event) => {
            if (event.event !== "task_status") return;
            const status = JSON.parse(event.data) as TaskStatus;
            setStatuses((current) =>
              current.some((s) => s.header.sequence === status.header.sequence)
                ? current
                : [...current, status],
            );
            reload.current();
            if (isTerminal(status.body.status)) stream.abort();
          },
        },
        "endless",
      ),
    );
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [api, props.id]);

  if (problem !== null) {
    return (
      <section class="card">
        <p class="problem" role="alert">
          {problem}
        </p>
        <a href={href({ view: "overview" })}>← All tasks</a>
      </section>
    );
  }
  if (task === null) return <p aria-busy="true">Loading…</p>;

  const finished = isTerminal(task.state);
  const mayCancel =
    !finished && session.may.submit && (session.may.admin || task.submitter === session.principal);
  return (
    <article class="detail" aria-labelledby="task-title">
      <p>
        <a href={href({ view: "overview" })}>← All tasks</a>
      </p>
      <header class="card detail-head">
        <div>
          <h1 id="task-title">
            {task.type} <span class="mono small">{task.id}</span>
          </h1>
          <p>
            <StateBadge state={task.state} />{" "}
            <ProgressBar value={task.progress} state={task.state} label="Progress" />
          </p>
        </div>
        {mayCancel && <CancelButton id={task.id} onCancelled={() => reload.current()} />}
      </header>
      <section class="card" aria-labelledby="fields-title">
        <h2 id="fields-title">Task</h2>
        <dl class="fields">
          <dt>Reference</dt>
          <dd class="mono">{task.reference_id}</dd>
          <dt>Submitter</dt>
          <dd>{task.submitter}</dd>
          <dt>Priority</dt>
          <dd>{task.priority}</dd>
          <dt>Attempts</dt>
          <dd>
            {task.attempts} of {task.max_attempts}
          </dd>
          <dt>Node</dt>
          <dd class="mono">{task.node ?? lastNode(statuses) ?? "—"}</dd>
          <dt>Submitted</dt>
          <dd title={task.created_at}>{age(task.created_at, now)} ago</dd>
          <dt>Deadline</dt>
          <dd>{task.deadline ?? "none"}</dd>
          <dt>Requirements</dt>
          <dd class="mono">
            {Object.keys(task.requirements).length === 0 ? "none" : JSON.stringify(task.requirements)}
          </dd>
        </dl>
      </section>
      {task.error !== null && (
        <section class="card error-box" aria-labelledby="error-title">
          <h2 id="error-title">Error</h2>
          <p>
            <span class="code">{task.error.code}</span> {task.error.message}{" "}
            <span class="muted">({retryText(task)})</span>
          </p>
        </section>
      )}
      <div class="two">
        <section class="card" aria-labelledby="params-title">
          <h2 id="params-title">Parameters</h2>
          <pre class="json" tabIndex={0}>
            {prettyJson(task.parameters)}
          </pre>
        </section>
        <section class="card" aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          <pre class="json" tabIndex={0}>
            {task.state === "completed" ? prettyJson(task.result) : "—"}
          </pre>
        </section>
      </div>
      <Timeline statuses={statuses} />
    </article>
  );
}

/** Where the task ran last, from its statuses: the snapshot forgets the node once it finishes. */
function lastNode(statuses: TaskStatus[]): string | undefined {
  let node: string | undefined;
  for (const status of statuses) node = status.body.details?.node ?? node;
  return node;
}

/** Whether another attempt will come, in words: "retryable" only while one will. */
function retryText(task: TaskSnapshot): string {
  if (!isTerminal(task.state))
    return task.error?.retryable
      ? `attempt ${task.attempts} of ${task.max_attempts}; it will be retried`
      : "";
  if (task.state === "failed" && task.error?.retryable)
    return `not retried: all ${task.max_attempts} attempts used`;
  return "not retried";
}

/** Cancel asks once more before it acts: a mis-click in an incident should cost nothing. */
function CancelButton(props: { id: string; onCancelled(): void }) {
  const { api } = useSignedIn();
  const [confirming, setConfirming] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!confirming) {
    return (
      <button type="button" class="danger" onClick={() => setConfirming(true)}>
        Cancel task
      </button>
    );
  }
  return (
    <div class="confirm" role="group" aria-label="Confirm cancel">
      <button
        type="button"
        class="danger"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          api
            .cancel(props.id)
            .then(() => {
              setConfirming(false);
              props.onCancelled();
            })
            .catch((error: unknown) => setProblem(error instanceof Error ? error.message : String(error)))
            .finally(() => setBusy(false));
        }}
      >
        Yes, cancel it
      </button>
      <button type="button" class="quiet" onClick={() => setConfirming(false)}>
        Keep it running
      </button>
      {problem !== null && (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
