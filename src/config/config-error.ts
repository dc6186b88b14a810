import type { ValidationIssue } from "../protocol/issues.js";

/** A configuration that cannot start an executor: each problem with its key path. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: Pick<ValidationIssue, "path" | "message">[]) {
    super(
      `invalid configuration:\n${problems.map((p) => `  - ${p.path || "(root)"}: ${p.message}`).join("\n")}`,
    );
  }
}
