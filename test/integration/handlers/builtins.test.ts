import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { collect, events, type Harness, startExecutor } from "../../helpers/executor.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function finalBody(
  harness: Harness,
  request: Parameters<ReturnType<Harness["executor"]["client"]>["submit"]>[0],
) {
  const client = harness.executor.client();
  const task = await client.submit(request);
  const statuses = await collect(client.watch(task.id));
  return { last: statuses[statuses.length - 1]!.body, statuses };
}

describe("built-in handlers", () => {
  it("noop returns {} and sleep reports progress and honours cancel", async () => {
    h = await startExecutor();
    expect((await finalBody(h, { type: "noop" })).last).toMatchObject({
      status: "completed",
      details: { result: {} },
    });
    const { last, statuses } = await finalBody(h, { type: "sleep", parameters: { ms: 100 } });
    expect(last.details?.result).toEqual({ slept_ms: 100 });
    expect(events(statuses).filter((e) => e === "progress_update")).toHaveLength(2);
  });

  it("does not register http and shell unless enabled", async () => {
    h = await startExecutor();
    const error = await h.executor
      .client()
      .submit({ type: "shell", parameters: { program: "echo" } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "handler_not_found" });
  });

  describe("http", () => {
    let server: Server;
    let host: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === "/big") return res.end("x".repeat(10_000));
        if (req.url === "/missing") {
          res.statusCode = 404;
          return res.end("nope");
        }
        if (req.url === "/broken") {
          res.statusCode = 503;
          return res.end("later");
        }
        let body = "";
        req.on("data", (c) => {
          body += c;
        });
        req.on("end", () => res.end(JSON.stringify({ method: req.method, body })));
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const enable = () =>
      startExecutor({
        builtins: {
          http: { enabled: true, allow_hosts: [host], max_response_bytes: 1000, timeout_ms: 2000 },
        },
      });

    it("makes a request to an allowed host and bounds the response", async () => {
      h = await enable();
      const ok = await finalBody(h, {
        type: "http",
        parameters: { url: `http://${host}/echo`, method: "POST", body: "hi" },
      });
      expect(ok.last.details?.result).toMatchObject({
        status: 200,
        body: '{"method":"POST","body":"hi"}',
        truncated: false,
      });
      const big = await finalBody(h, { type: "http", parameters: { url: `http://${host}/big` } });
      expect(big.last.details?.result).toMatchObject({ truncated: true });
      expect((big.last.details!.result as { body: string }).body).toHaveLength(1000);
    });

    it("refuses other hosts at submission, fails 4xx for good and retries 5xx", async () => {
      h = await enable();
      const refused = await h.executor
        .client()
        .submit({ type: "http", parameters: { url: "http://example.com/" } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({
        code: "validation_failed",
        issues: [{ path: "body.task_specification.parameters.url" }],
      });
      const missing = await finalBody(h, { type: "http", parameters: { url: `http://${host}/missing` } });
      expect(missing.last).toMatchObject({
        status: "failed",
        details: { attempt: 1, error: { retryable: false } },
      });
      const broken = await finalBody(h, {
        type: "http",
        parameters: { url: `http://${host}/broken` },
        maxAttempts: 2,
      });
      expect(broken.last).toMatchObject({ status: "failed", details: { attempt: 2 } });
    });
  });

  describe("shell", () => {
    const enable = () =>
      startExecutor({
        builtins: {
          shell: {
            enabled: true,
            allow_programs: ["echo", "/bin/sh", "false", "head"],
            max_output_bytes: 64,
            timeout_ms: 2000,
          },
        },
      });

    it("runs an allowed program with an argv array, never through a shell", async () => {
      h = await enable();
      const { last } = await finalBody(h, {
        type: "shell",
        parameters: { program: "echo", args: ["$HOME", "; rm -rf /", "`id`"] },
      });
      expect(last.details?.result).toMatchObject({
        exit_code: 0,
        stdout: "$HOME ; rm -rf / `id`\n",
        truncated: false,
      });
    });

    it("passes only PATH and the task's own variables to the program", async () => {
      process.env.TASKEXEC_TEST_SECRET = "s3cret";
      h = await enable();
      const { last } = await finalBody(h, {
        type: "shell",
        parameters: {
          program: "/bin/sh",
          args: ["-c", 'echo "[$TASKEXEC_TEST_SECRET][$MINE]"'],
          env: { MINE: "ok" },
        },
      });
      delete process.env.TASKEXEC_TEST_SECRET;
      expect((last.details!.result as { stdout: string }).stdout).toBe("[][ok]\n");
    });

    it("refuses programs not on the list, keeps output bounded, and fails on a non-zero exit", async () => {
      h = await enable();
      const refused = await h.executor
        .client()
        .submit({ type: "shell", parameters: { program: "rm", args: ["-rf", "/tmp/x"] } })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ issues: [{ path: "body.task_specification.parameters.program" }] });
      const long = await finalBody(h, {
        type: "shell",
        parameters: { program: "head", args: ["-c", "5000", "/dev/zero"] },
      });
      expect(long.last.details?.result).toMatchObject({ truncated: true });
      const failing = await finalBody(h, { type: "shell", parameters: { program: "false" }, maxAttempts: 1 });
      expect(failing.last).toMatchObject({ status: "failed", details: { error: { code: "handler_error" } } });
    });
  });
});
