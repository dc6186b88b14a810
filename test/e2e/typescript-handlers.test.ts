// `serve --handlers ./h.ts`: a TypeScript handler module loads in the real binary (through tsx,
// which Node 20 needs for types), whether its folder is an ES module package or not.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, killServes, serve, serveEnv } from "../helpers/serve.js";
import { TEST_SECRET } from "../helpers/service.js";
import { tempDir } from "../helpers/temp.js";
import { signToken } from "../../src/security/token-signer.js";

const INDEX = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "src", "index.js")).href;

const MODULE = `
import { defineHandler } from ${JSON.stringify(INDEX)};
interface Greeting { name: string }
export const greet = defineHandler<Greeting, { hi: string }>({
  type: "greet",
  example: { name: "Ada" },
  run: ({ parameters }): { hi: string } => ({ hi: \`hello \${parameters.name}\` }),
});
`;

afterEach(killServes);

describe("TypeScript handler modules", () => {
  for (const packageType of ["module", undefined]) {
    it(`serve --handlers ./h.ts runs its handler (package type ${packageType ?? "unset"})`, async () => {
      const tmp = tempDir();
      try {
        writeFileSync(join(tmp.dir, "h.ts"), MODULE);
        if (packageType) writeFileSync(join(tmp.dir, "package.json"), JSON.stringify({ type: packageType }));
        const port = await freePort();
        const server = serve(serveEnv(join(tmp.dir, "data"), port), ["--handlers", join(tmp.dir, "h.ts")]);
        await server.ready;
        expect(server.output().stdout).toMatch(/handlers\s+greet, noop, sleep/);
        const token = await signToken(TEST_SECRET, { sub: "t", roles: ["admin"], ttl: "5m" });
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
        const url = `http://127.0.0.1:${port}`;
        const submitted = await fetch(`${url}/v1/tasks`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            type: "submit_task",
            header: { message_id: "ts-1", timestamp: new Date().toISOString() },
            body: { task_specification: { type: "greet", parameters: { name: "Ada" } }, priority: 5 },
          }),
        });
        expect(submitted.status).toBe(202);
        const id = ((await submitted.json()) as { header: { task_id: string } }).header.task_id;
        let task: { state: string; result: unknown } | undefined;
        for (let i = 0; i < 100 && task?.state !== "completed"; i++) {
          task = (await (await fetch(`${url}/v1/tasks/${id}`, { headers })).json()) as typeof task;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(task).toMatchObject({ state: "completed", result: { hi: "hello Ada" } });
      } finally {
        killServes();
        tmp.remove();
      }
    });
  }
});
