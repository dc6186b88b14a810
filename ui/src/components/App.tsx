import { useEffect, useState } from "preact/hooks";
import { Api, ApiError } from "../api.js";
import { LiveFeed } from "../live-feed.js";
import { type SignedIn, SignedInContext, forgetToken, storeToken, storedToken } from "../session.js";
import { Login } from "./Login.js";
import { Shell } from "./Shell.js";

/** Why a token was not taken, in words a person can act on. */
export function loginProblem(error: unknown): string {
  if (!(error instanceof ApiError)) return "Something went wrong while checking the token.";
  if (error.status === 0) return "Cannot reach the taskexec server. Is it running?";
  if (error.status === 401) return `This token was not accepted: ${error.message}.`;
  if (error.status === 403) return `This token may not watch tasks: ${error.message}.`;
  return `The server refused the token (${error.code}): ${error.message}`;
}

export function App() {
  const [signedIn, setSignedIn] = useState<SignedIn | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signOut = (why: string | null) => {
    forgetToken();
    setSignedIn((current) => {
      current?.feed.close();
      return null;
    });
    setProblem(why);
  };

  /** `quiet`: a refusal just shows the sign-in form (a first try without a token). */
  const signIn = async (token: string, quiet = false) => {
    setBusy(true);
    setProblem(null);
    const api = new Api(token);
    try {
      const session = await api.session();
      storeToken(token);
      const feed = new LiveFeed(token, (status) =>
        signOut(
          status === 401 ? "Your token is no longer accepted (it may have expired). Sign in again." : null,
        ),
      );
      setSignedIn({ api, session, feed });
    } catch (error) {
      forgetToken();
      if (!quiet || !(error instanceof ApiError && error.status === 401)) setProblem(loginProblem(error));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    const token = storedToken();
    if (token !== null) {
      void signIn(token);
      return;
    }
    // A server with auth off (loopback only) takes any token: then no sign-in is needed at all.
    // Asked of /healthz, not by a /v1/session the browser would log as a failed request.
    new Api("").health().then(
      (health) => {
        if (health.auth === false) void signIn("", true);
      },
      () => undefined,
    );
  }, []);

  if (signedIn === null)
    return <Login onSignIn={(token) => void signIn(token)} problem={problem} busy={busy} />;
  return (
    <SignedInContext.Provider value={signedIn}>
      <Shell onSignOut={() => signOut(null)} />
    </SignedInContext.Provider>
  );
}
