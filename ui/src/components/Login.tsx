import { useState } from "preact/hooks";

export function Login(props: { onSignIn(token: string): void; problem: string | null; busy: boolean }) {
  const [token, setToken] = useState("");
  return (
    <main class="login">
      <form
        class="card"
        aria-labelledby="login-title"
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim() !== "") props.onSignIn(token.trim());
        }}
      >
        <h1 id="login-title">taskexec</h1>
        <p class="muted">
          Paste a token to watch and steer tasks. <code>taskexec token --sub you --role admin</code> mints
          one; the first <code>taskexec serve</code> prints an admin token.
        </p>
        <label for="token">Token</label>
        <textarea
          id="token"
          name="token"
          rows={4}
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        {props.problem !== null && (
          <p class="problem" role="alert">
            {props.problem}
          </p>
        )}
        <button type="submit" disabled={props.busy}>
          {props.busy ? "Checking…" : "Sign in"}
        </button>
        <p class="muted small">The token is kept in this tab's session storage only.</p>
      </form>
    </main>
  );
}
