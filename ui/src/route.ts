import { useEffect, useState } from "preact/hooks";

/** The dashboard's places, in the URL's hash so that a link or reload lands on the same view. */
export type Route =
  { view: "overview" } | { view: "task"; id: string } | { view: "submit" } | { view: "audit" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  const [head, ...rest] = path.split("/");
  if (head === "tasks" && rest[0]) return { view: "task", id: decodeURIComponent(rest[0]) };
  if (head === "submit") return { view: "submit" };
  if (head === "audit") return { view: "audit" };
  return { view: "overview" };
}

export function href(route: Route): string {
  switch (route.view) {
    case "overview":
      return "#/";
    case "task":
      return `#/tasks/${encodeURIComponent(route.id)}`;
    case "submit":
      return "#/submit";
    case "audit":
      return "#/audit";
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
