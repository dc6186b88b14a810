import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Api, Session } from "./api.js";
import type { LiveFeed } from "./live-feed.js";

/** The token lives in session storage: it survives a reload, not the closing of the tab. */
const TOKEN_KEY = "taskexec.token";

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const storeToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

/** What every view of a signed-in page shares. */
export interface SignedIn {
  api: Api;
  session: Session;
  feed: LiveFeed;
}

export const SignedInContext = createContext<SignedIn | null>(null);

export function useSignedIn(): SignedIn {
  const value = useContext(SignedInContext);
  if (value === null) throw new Error("useSignedIn outside a signed-in page");
  return value;
}
