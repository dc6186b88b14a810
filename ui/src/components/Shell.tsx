import { useEffect, useState } from "preact/hooks";
import { href, useRoute } from "../route.js";
import { useSignedIn } from "../session.js";
import { AuditView } from "./AuditView.js";
import { Overview } from "./Overview.js";
import { SubmitForm } from "./SubmitForm.js";
import { TaskDetail } from "./TaskDetail.js";

/** The signed-in page: header with navigation and who is signed in, and the current view. */
export function Shell(props: { onSignOut: () => void }) {
  const { session, feed } = useSignedIn();
  const route = useRoute();
  const [connected, setConnected] = useState(feed.connected);
  useEffect(() => {
    const unsubscribe = feed.onConnection(setConnected);
    setConnected(feed.connected); // it may have connected between the first render and now
    return unsubscribe;
  }, [feed]);

  const link = (target: typeof route, label: string) => (
    <a href={href(target)} aria-current={route.view === target.view ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          taskexec
        </a>
        <nav aria-label="Views">
          {link({ view: "overview" }, "Overview")}
          {session.may.submit && link({ view: "submit" }, "Submit")}
          {session.may.admin && link({ view: "audit" }, "Audit")}
        </nav>
        <span class={`live ${connected ? "on" : "off"}`} role="status" aria-live="polite">
          {connected ? "live" : "reconnecting…"}
        </span>
        <span class="who" title={session.roles.join(", ")}>
          {session.principal} <span class="muted">({session.roles.join(", ")})</span>
        </span>
        <button type="button" class="quiet" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.view === "overview" && <Overview />}
        {route.view === "task" && <TaskDetail id={route.id} />}
        {route.view === "submit" &&
          (session.may.submit ? <SubmitForm /> : <p class="problem">This token may not submit tasks.</p>)}
        {route.view === "audit" &&
          (session.may.admin ? <AuditView /> : <p class="problem">The audit trail is for admins.</p>)}
      </main>
    </>
  );
}
