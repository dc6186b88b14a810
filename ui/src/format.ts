// How the dashboard writes times, durations and amounts.

/** "3 s", "4 min", "2 h", "5 d": how long ago (or how long), rounded to one unit. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return "<1 s";
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** How long ago; `now` is at least the current time (a row may be newer than the last tick). */
export function age(iso: string, now = Date.now()): string {
  return shortDuration(Math.max(now, Date.now()) - Date.parse(iso));
}

/** Local date and time with milliseconds, for timelines. */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function prettyJson(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value, null, 2);
}

export function amount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** The words of a state, for people: `resource_allocation` → "resource allocation". */
export function words(state: string): string {
  return state.replaceAll("_", " ");
}

/** A short form of a long id for narrow cells; the full id stays in the title and the link. */
export function shortId(id: string): string {
  return id.length > 17 ? `${id.slice(0, 8)}…${id.slice(-8)}` : id;
}
