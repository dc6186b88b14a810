// `taskexec migrate up|down|status [--to N]` on both backends, and serve's own migrations: the
// built binary against a real SQLite file and a real PostgreSQL database.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startMember, withDatabase } from "../helpers/cluster.js";
import { runCli } from "../helpers/cli.js";
import { createTestDatabase, postgresForTests } from "../helpers/postgres.js";
import { freePort, killServes, serve, serveEnv } from "../helpers/serve.js";
import { tempDir } from "../helpers/temp.js";

const postgres = await postgresForTests();

afterEach(killServes);

/** The applied migrations' names, as `migrate status --json` lists them. */
async function applied(env: Record<string, string>): Promise<string[]> {
  const status = await runCli(["migrate", "status", "--json"], { env });
  expect(status.code, status.stderr).toBe(0);
  const { migrations } = JSON.parse(status.stdout) as { migrations: { name: string; appliedAt?: string }[] };
  return migrations.filter((m) => m.appliedAt !== undefined).map((m) => m.name);
}

describe("taskexec migrate", () => {
  it("moves a SQLite store up, down, to a migration, and refuses while a serve holds the file", async () => {
    const tmp = tempDir();
    try {
      const env = { TASKEXEC_STORE__URL: `sqlite:${join(tmp.dir, "t.db")}` };
      expect(await applied(env)).toEqual([]);
      const up = await runCli(["migrate", "up"], { env });
      expect(up.code).toBe(0);
      expect(up.stdout).toMatch(/^applied +0001_initial$/m);
      const all = await applied(env);
      expect(all.length).toBeGreaterThanOrEqual(4);
      const down = await runCli(["migrate", "down"], { env });
      expect(down.stdout.trim()).toBe(`reverted ${all[all.length - 1]}`);
      expect(await applied(env)).toEqual(all.slice(0, -1));
      expect((await runCli(["migrate", "down", "--to", "1"], { env })).code).toBe(0);
      expect(await applied(env)).toEqual(all.slice(0, 1));
      expect((await runCli(["migrate", "up", "--to", "2"], { env })).code).toBe(0);
      expect(await applied(env)).toEqual(all.slice(0, 2));
      // Wrong ways round and unknown targets are usage mistakes, with what to do instead.
      const backwards = await runCli(["migrate", "up", "--to", "1"], { env });
      expect(backwards.code).toBe(2);
      expect(backwards.stderr).toMatch(/past it already .*use down/);
      const unknown = await runCli(["migrate", "up", "--to", "99"], { env });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no such migration \(known: 0001_initial/);
      expect((await runCli(["migrate", "down", "--to", "0"], { env })).code).toBe(0);
      expect(await applied(env)).toEqual([]);

      // serve migrates an empty store itself and says so; migrate is refused while it runs.
      const port = await freePort();
      const server = serve(
        serveEnv(join(tmp.dir, "data"), port, { ...env, TASKEXEC_LOGGING__LEVEL: "info" }),
      );
      await server.ready;
      expect(server.output().stdout).toMatch(/created the store's schema/);
      const busy = await runCli(["migrate", "down"], { env });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/is in use by/);
      expect(busy.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      tmp.remove();
    }
  });

  it.runIf(postgres)("moves a PostgreSQL store; serve refuses a schema newer than it knows", async () => {
    const db = await createTestDatabase();
    const tmp = tempDir();
    try {
      const env = { TASKEXEC_STORE__URL: db.url };
      expect(await applied(env)).toEqual([]);
      expect((await runCli(["migrate", "up"], { env })).code).toBe(0);
      const all = await applied(env);
      expect(all[0]).toBe("0001_initial");
      expect((await runCli(["migrate", "down", "--to", "0"], { env })).code).toBe(0);
      expect(await applied(env)).toEqual([]);
      await withDatabase(db.url, async (c) => {
        const { rows } = await c.query("SELECT to_regclass('tasks') AS t");
        expect(rows[0]).toEqual({ t: null }); // down really dropped the tables
      });

      // serve migrates an empty database itself, and says so in its log.
      const member = await startMember(tmp.dir, "a", db.url, { TASKEXEC_LOGGING__LEVEL: "info" });
      expect(member.process.output().stdout).toMatch(/"from":"empty".*created the store's schema/);
      expect(await applied(env)).toEqual(all);

      // While it runs, down is refused (it would break it); with --force it goes, and the process
      // says it is not ready until the schema is its own again (issue 25, smaller ones).
      const refusedDown = await runCli(["migrate", "down"], { env });
      expect(refusedDown.code).toBe(2);
      expect(refusedDown.stderr).toMatch(/processes use .* now \(.+\): stop them first, or pass --force/);
      expect(await applied(env)).toEqual(all);
      expect((await fetch(`${member.url}/readyz`)).status).toBe(200);
      expect((await runCli(["migrate", "down", "--force"], { env })).code).toBe(0);
      expect((await fetch(`${member.url}/readyz`)).status).toBe(503);
      expect((await runCli(["migrate", "up"], { env })).code).toBe(0);
      expect((await fetch(`${member.url}/readyz`)).status).toBe(200);
      killServes();
      await member.process.exited;

      // A newer taskexec migrated the database further: this one must not write to it.
      await withDatabase(db.url, (c) =>
        c.query("INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', now())"),
      );
      const port = await freePort();
      const refused = serve(serveEnv(join(tmp.dir, "b"), port, env));
      expect(await refused.exited).toBe(1);
      expect(refused.output().stderr).toMatch(
        /newer schema than this version of taskexec knows.*9999_from_the_future/,
      );
      expect(refused.output().stderr).not.toMatch(/\n\s+at /);
      const status = await runCli(["migrate", "status"], { env });
      expect(status.stdout).toMatch(/9999_from_the_future +applied, unknown to this version/);
    } finally {
      killServes();
      await db.drop();
      tmp.remove();
    }
  });
});
