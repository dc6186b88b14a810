import { describe, expect, it } from "vitest";
import { formatPath } from "../../../src/protocol/issues.js";
import { SubmitTask } from "../../../src/protocol/submit-task.js";
import { mutate, seedExample } from "../../helpers/messages.js";

function firstIssuePath(message: unknown): string | undefined {
  const result = SubmitTask.safeParse(message);
  if (result.success) return undefined;
  return formatPath(result.error.issues[0]!.path);
}

describe("submit_task schema", () => {
  it("accepts the seed's example unchanged but for its deadline", () => {
    const parsed = SubmitTask.parse(seedExample());
    expect(parsed.body.priority).toBe(1);
    expect(parsed.body.task_specification).toMatchObject({ type: "data_processing" });
  });

  it("ignores unknown fields at every level", () => {
    const message = { ...seedExample(), extra: 1 } as Record<string, unknown>;
    (message.header as Record<string, unknown>).x_trace = "abc";
    (message.body as Record<string, unknown>).note = "hi";
    const parsed = SubmitTask.parse(message);
    expect(parsed).not.toHaveProperty("extra");
    expect(parsed.header).not.toHaveProperty("x_trace");
  });

  it("accepts an encrypted (JWE compact) specification as a string", () => {
    const message = mutate(seedExample(), ["body", "task_specification"], "eyJhbGciOi.x.y.z.w");
    expect(SubmitTask.safeParse(message).success).toBe(true);
  });

  it("accepts custom resource kinds and zero amounts", () => {
    const message = mutate(seedExample(), ["body", "task_specification", "requirements"], {
      cpu: 0.5,
      memory_mb: 0,
      licence_seats: 2,
    });
    expect(SubmitTask.safeParse(message).success).toBe(true);
  });

  const longId = "x".repeat(129);
  const invalid: [string, (string | number)[], unknown, string][] = [
    ["type missing", ["type"], undefined, "type"],
    ["wrong type", ["type"], "task_status", "type"],
    ["header missing", ["header"], undefined, "header"],
    ["header not an object", ["header"], "h", "header"],
    ["message_id missing", ["header", "message_id"], undefined, "header.message_id"],
    ["message_id empty", ["header", "message_id"], "", "header.message_id"],
    ["message_id too long", ["header", "message_id"], longId, "header.message_id"],
    ["message_id a number", ["header", "message_id"], 123, "header.message_id"],
    ["message_id with a newline", ["header", "message_id"], "a\nb", "header.message_id"],
    ["message_id with NUL", ["header", "message_id"], "a\u0000b", "header.message_id"],
    ["message_id lone surrogate", ["header", "message_id"], "a\ud800b", "header.message_id"],
    ["timestamp missing", ["header", "timestamp"], undefined, "header.timestamp"],
    ["timestamp not RFC 3339", ["header", "timestamp"], "21/03/2024 10:00", "header.timestamp"],
    ["timestamp without offset", ["header", "timestamp"], "2024-03-21T10:00:00", "header.timestamp"],
    ["timestamp impossible date", ["header", "timestamp"], "2024-02-30T10:00:00Z", "header.timestamp"],
    ["timestamp a number", ["header", "timestamp"], 1711015200, "header.timestamp"],
    ["protocol version 2", ["header", "protocol_version"], "2.0.0", "header.protocol_version"],
    ["body missing", ["body"], undefined, "body"],
    ["body an array", ["body"], [], "body"],
    ["specification missing", ["body", "task_specification"], undefined, "body.task_specification"],
    ["specification a number", ["body", "task_specification"], 5, "body.task_specification"],
    ["spec type missing", ["body", "task_specification", "type"], undefined, "body.task_specification"],
    ["spec type empty", ["body", "task_specification", "type"], "", "body.task_specification"],
    ["parameters an array", ["body", "task_specification", "parameters"], [1], "body.task_specification"],
    ["priority missing", ["body", "priority"], undefined, "body.priority"],
    ["priority 10", ["body", "priority"], 10, "body.priority"],
    ["priority -1", ["body", "priority"], -1, "body.priority"],
    ["priority 1.5", ["body", "priority"], 1.5, "body.priority"],
    ["priority a string", ["body", "priority"], "1", "body.priority"],
    ["deadline not a date", ["body", "deadline"], "tomorrow", "body.deadline"],
    ["deadline a number", ["body", "deadline"], 0, "body.deadline"],
    [
      "requirement negative",
      ["body", "task_specification", "requirements"],
      { cpu: -1 },
      "body.task_specification",
    ],
    [
      "requirement a string",
      ["body", "task_specification", "requirements"],
      { cpu: "2" },
      "body.task_specification",
    ],
    [
      "requirement bad kind",
      ["body", "task_specification", "requirements"],
      { "GPU!": 1 },
      "body.task_specification",
    ],
    ["timeout_ms zero", ["body", "task_specification", "timeout_ms"], 0, "body.task_specification"],
    ["timeout_ms fractional", ["body", "task_specification", "timeout_ms"], 1.5, "body.task_specification"],
    ["max_attempts 0", ["body", "task_specification", "max_attempts"], 0, "body.task_specification"],
    ["max_attempts 101", ["body", "task_specification", "max_attempts"], 101, "body.task_specification"],
  ];

  it.each(invalid)("refuses %s, naming %s", (_name, path, value, expectedPrefix) => {
    const found = firstIssuePath(mutate(seedExample(), path, value));
    expect(found).toBeDefined();
    expect(found!.startsWith(expectedPrefix)).toBe(true);
  });

  it("says a missing priority is required, and a fractional one is not an integer", () => {
    const message = (value: unknown) =>
      SubmitTask.safeParse(mutate(seedExample(), ["body", "priority"], value)).error!.issues[0]!.message;
    expect(message(undefined)).toBe("is required (an integer 0–9)");
    expect(message(1.5)).toBe("must be an integer");
    expect(message(10)).toBe("must be 0–9");
  });

  it("names the exact path inside the specification", () => {
    const result = SubmitTask.safeParse(
      mutate(seedExample(), ["body", "task_specification", "requirements"], { cpu: -1 }),
    );
    expect(result.success).toBe(false);
    // The union reports the object branch's issue; its path reaches the offending key.
    const paths = result.error!.issues.flatMap((issue) =>
      issue.code === "invalid_union"
        ? issue.errors.flat().map((inner) => formatPath([...issue.path, ...inner.path]))
        : [formatPath(issue.path)],
    );
    expect(paths).toContain("body.task_specification.requirements.cpu");
  });
});
