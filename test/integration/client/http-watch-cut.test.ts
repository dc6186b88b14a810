// The HTTP TaskClient's watch() over a stream the server cuts mid-task (issue 25.18): it
// reconnects by itself with Last-Event-ID and yields every status once, in order, to the end.
// A real server on loopback, its connections closed under the client.
import { afterEach, describe, expect, it } from "vitest";
import { HttpTaskClient } from "../../../src/client/http-task-client.js";
import { type ServiceHarness, startTestService } from "../../helpers/service.js";

describe("HttpTaskClient.watch cut mid-stream", () => {
  let h: ServiceHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it("resumes after the server drops its connections, each status once and in order", async () => {
    h = await startTestService();
    const token = await h.token("alice", ["submitter"]);
    const client = new HttpTaskClient({ url: h.url, token });
    try {
      const { id } = await client.submit({ type: "sleep", parameters: { ms: 1_500 } });
      const seen: number[] = [];
      let cuts = 0;
      for await (const status of client.watch(id)) {
        seen.push(status.header.sequence);
        // Twice, at the first progress updates: every connection the server holds goes.
        if (status.body.details?.event === "progress_update" && cuts < 2) {
          cuts += 1;
          h.service.app.server.closeAllConnections();
        }
      }
      expect(cuts).toBe(2);
      expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
      expect((await client.get(id)).state).toBe("completed");
      const { events } = (await h.call("GET", `/v1/tasks/${id}/events`, { token })).body as {
        events: unknown[];
      };
      expect(seen).toHaveLength(events.length);
    } finally {
      await client.close();
    }
  });
});
