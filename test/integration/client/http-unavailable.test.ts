// The HTTP TaskClient against a server whose store is away (issue 25.13): a 503 `unavailable`
// means nothing was done, so the client tries the same request again by itself, and gives up
// with that code once the server has said it long enough. A real HTTP server on loopback.
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { HttpTaskClient } from "../../../src/client/http-task-client.js";

const accepted = {
  type: "task_status",
  header: {
    message_id: "s-1",
    reference_id: "m-1",
    timestamp: new Date().toISOString(),
    task_id: "t-1",
    sequence: 1,
  },
  body: { status: "resource_allocation", details: { event: "task_accepted" } },
};

describe("HttpTaskClient while the server's store is away", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A server that answers `unavailable` the first `away` times, then accepts. */
  const serveAway = async (away: number) => {
    let requests = 0;
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        requests += 1;
        response.setHeader("content-type", "application/json");
        if (requests <= away) {
          response.writeHead(503, { "retry-after": "1" });
          response.end(
            JSON.stringify({ error: { code: "unavailable", message: "the store is unreachable" } }),
          );
          return;
        }
        response.writeHead(202);
        response.end(JSON.stringify(accepted));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, requests: () => requests };
  };

  it("tries a submission again until the server takes it", async () => {
    const { url, requests } = await serveAway(2);
    const client = new HttpTaskClient({ url, token: "t" });
    const task = await client.submit({ type: "noop", parameters: {} });
    expect(task.id).toBe("t-1");
    expect(requests()).toBe(3);
    await client.close();
  });

  it("gives up with `unavailable` when the store stays away", async () => {
    const { url, requests } = await serveAway(100);
    const client = new HttpTaskClient({ url, token: "t" });
    await expect(client.submit({ type: "noop", parameters: {} })).rejects.toMatchObject({
      code: "unavailable",
    });
    expect(requests()).toBe(6);
    await client.close();
  }, 20_000);
});
