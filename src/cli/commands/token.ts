import type { Command } from "commander";
import { loadConfig } from "../../config/load-config.js";
import { ROLES, type Role } from "../../security/roles.js";
import { readSecret } from "../../security/secret-file.js";
import { signToken } from "../../security/token-signer.js";
import { UsageError } from "../cli-error.js";

export function registerToken(program: Command, run: (code: number) => void): void {
  program
    .command("token")
    .description("mint a token signed with the server's secret (auth.jwt_secret, or the one serve generated)")
    .requiredOption("--sub <principal>", "who the token is for")
    .requiredOption("--role <roles...>", `one or more of ${ROLES.join(", ")}`)
    .option("--ttl <span>", "lifetime: 30m, 12h, 7d", "1h")
    .option("-c, --config <file>", "config file")
    .action(async (options: { sub: string; role: string[]; ttl: string; config?: string }) => {
      const roles = options.role.flatMap((r) => r.split(",")).map((r) => r.trim());
      const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (unknown.length > 0)
        throw new UsageError(`--role: unknown ${unknown.join(", ")} (use ${ROLES.join(", ")})`);
      if (!/^\d+\s*(s|m|h|d|w)$/.test(options.ttl))
        throw new UsageError(`--ttl: use a span like 30m, 12h or 7d, not "${options.ttl}"`);
      const { options: config } = loadConfig({ file: options.config });
      const secret = config.auth.jwt_secret ?? readSecret(config.data_dir);
      if (secret === undefined) {
        throw new UsageError(
          `no signing secret yet: run \`taskexec serve\` once (it creates ${config.data_dir}/jwt-secret) or set auth.jwt_secret`,
        );
      }
      console.log(
        await signToken(secret, {
          sub: options.sub,
          roles: roles as Role[],
          ttl: options.ttl,
          issuer: config.auth.issuer,
          audience: config.auth.audience,
        }),
      );
      run(0);
    });
}
