import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpConnections } from "../../../src/client/http-connections.js";
import { TaskClient } from "../../../src/client/url-task-client.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A real HTTP server on loopback; `handle` answers each request. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handle);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("HttpConnections", () => {
  it("keeps to its bound of open connections: calls beyond it wait their turn", async () => {
    const sockets = new Set<Socket>();
    let inFlight = 0;
    let mostInFlight = 0;
    const url = await serve((req, res) => {
      sockets.add(req.socket);
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        res.end(JSON.stringify({ path: req.url }));
      }, 2);
    });
    const connections = new HttpConnections(url, 4);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => connections.send("GET", `/n/${i}`, {})),
    );
    expect(answers.map((a) => (JSON.parse(a.text) as { path: string }).path)).toEqual(
      Array.from({ length: 100 }, (_, i) => `/n/${i}`),
    );
    expect(sockets.size).toBeLessThanOrEqual(4);
    expect(mostInFlight).toBe(4);
  });

  it("sends a request once more when the server had closed its kept-alive connection", async () => {
    const seen: Socket[] = [];
    const url = await serve((req, res) => {
      // The second request on a connection finds it closed, as when the server's keep-alive
      // timeout ends just as the client reuses it.
      if (seen.includes(req.socket)) {
        req.socket.destroy();
        return;
      }
      seen.push(req.socket);
      res.end(JSON.stringify({ n: seen.length }));
    });
    const connections = new HttpConnections(url, 1);
    expect((await connections.send("POST", "/a", {}, "{}")).text).toBe('{"n":1}');
    expect((await connections.send("POST", "/b", {}, "{}")).text).toBe('{"n":2}');
    expect(seen).toHaveLength(2);
  });
});

describe("TaskClient over HTTP", () => {
  it("refuses a URL or a connection bound it cannot use, naming it", () => {
    expect(() => new TaskClient({ url: "nonsense" })).toThrow(
      /must start with http:\/\/ or https:\/\/, got "nonsense"/,
    );
    expect(() => new TaskClient({ url: "ftp://127.0.0.1" })).toThrow(/must start with http/);
    expect(() => new TaskClient({ url: "http://127.0.0.1", maxConnections: 0 })).toThrow(
      /maxConnections must be a whole number of at least 1, got 0/,
    );
  });

  it("says clearly when what answers is not taskexec", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>a proxy's page</html>");
    });
    const client = new TaskClient({ url });
    await expect(client.get("x")).rejects.toMatchObject({
      code: "resource_unavailable",
      message: expect.stringContaining("not JSON") as unknown,
    });
  });

  it("says clearly when nothing listens", async () => {
    const url = await serve((_req, res) => res.end());
    server!.close();
    await new Promise((r) => setTimeout(r, 10));
    const client = new TaskClient({ url });
    await expect(client.get("x")).rejects.toMatchObject({
      code: "resource_unavailable",
      message: expect.stringContaining("ECONNREFUSED") as unknown,
    });
  });
});
