// Server-Sent Events over fetch: EventSource cannot send an Authorization header, and the token
// must not travel in a URL (it would land in access logs). The parser is the TaskClient's.
import { readServerSentEvents, type ServerSentEvent } from "../../src/client/sse-reader.js";

/**
 * Opens one SSE response and reads it until it ends; throws on an HTTP error or a dropped
 * connection. `onOpen` runs once the server has answered.
 */
export async function* readEventStream(
  url: string,
  token: string,
  signal: AbortSignal,
  lastEventId?: string,
  onOpen?: () => void,
): AsyncGenerator<ServerSentEvent> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "text/event-stream" };
  if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
  const response = await fetch(url, { headers, signal, cache: "no-store" });
  if (!response.ok || response.body === null) {
    const error = new Error(`the stream answered ${response.status}`) as Error & { status: number };
    error.status = response.status;
    throw error;
  }
  onOpen?.();
  yield* readServerSentEvents(response.body);
}

/**
 * Follows an SSE endpoint for as long as `signal` lives: reconnects after a drop with a growing
 * delay (resuming from the last event id), and reports whether it is connected.
 */
export async function followEventStream(
  url: string,
  token: string,
  signal: AbortSignal,
  handlers: {
    onEvent(event: ServerSentEvent): void;
    onConnection?(connected: boolean): void;
    /** Called on an HTTP 4xx: following stops (a retry would fail the same way). */
    onRefused?(status: number): void;
  },
  /**
   * `finite`: the stream's end is the end (a task's statuses end with its last). `endless`: an end
   * means the server went away (a restart), so reconnect as after a drop.
   */
  kind: "finite" | "endless" = "finite",
): Promise<void> {
  let lastEventId: string | undefined;
  let delayMs = 500;
  while (!signal.aborted) {
    try {
      const opened = () => {
        handlers.onConnection?.(true);
        delayMs = 500;
      };
      for await (const event of readEventStream(url, token, signal, lastEventId, opened)) {
        if (event.id !== undefined) lastEventId = event.id;
        handlers.onEvent(event);
      }
      if (kind === "finite") return; // the server ended the stream: nothing more will come
      throw new Error("the stream ended");
    } catch (error) {
      if (signal.aborted) return;
      const status = (error as { status?: number }).status;
      if (status !== undefined && status >= 400 && status < 500) {
        handlers.onRefused?.(status);
        return;
      }
      handlers.onConnection?.(false);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 10_000);
    }
  }
}
