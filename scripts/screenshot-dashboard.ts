// Writes docs/images/: the dashboard's overview after a minute of mixed work, a failed task, and
// the submit form, at 1280 × 800 and on a phone (390 × 844) (`npm run docs:screenshot`, after
// `npm run build`). Starts its own service on a temporary data
// directory and drives Debian's Chromium, as the tests do.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import { startService } from "../src/api/service.js";
import { toSubmitMessage } from "../src/client/submit-message.js";
import { compileOptions } from "../src/config/options.js";

const IMAGES = join(import.meta.dirname, "..", "docs", "images");
const RUN_S = Number(process.env.SCREENSHOT_RUN_S ?? 60);

const dir = mkdtempSync(join(tmpdir(), "taskexec-screenshot-"));
const service = await startService(
  compileOptions({
    data_dir: dir,
    store: { url: `sqlite:${join(dir, "taskexec.db")}` },
    http: { port: 0 },
    logging: { level: "silent" },
    resources: { cpu: 4, memory_mb: 8192, gpu: 1 },
    max_concurrent_tasks: 8,
  }),
);
const token = service.adminToken!;
const post = (body: unknown) =>
  fetch(`${service.url}/v1/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// A minute of work: short and long sleeps at several priorities, some asking for a CPU or the
// GPU, a few failing once (retried) or for good.
const until = Date.now() + RUN_S * 1000;
let n = 0;
while (Date.now() < until) {
  n += 1;
  const ms = n % 10 === 0 ? 20_000 : 50 + ((n * 37) % 1500);
  await post(
    toSubmitMessage({
      type: "sleep",
      parameters: { ms, fail_attempts: n % 17 === 0 ? 1 : n % 29 === 0 ? 5 : 0, permanent: n % 29 === 0 },
      priority: n % 10,
      requirements: n % 7 === 0 ? { gpu: 1 } : n % 3 === 0 ? { cpu: 1, memory_mb: 512 } : undefined,
    }),
  );
  await sleep(80 + ((n * 53) % 200));
}

const browser = await chromium.launch({
  executablePath: process.env.TASKEXEC_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  mkdirSync(IMAGES, { recursive: true });
  const failed = (await (
    await fetch(`${service.url}/v1/tasks?state=failed&limit=1`, {
      headers: { authorization: `Bearer ${token}` },
    })
  ).json()) as { tasks: { id: string }[] };
  const views = [
    ["overview", ""],
    ["failed-task", failed.tasks[0] ? `tasks/${failed.tasks[0].id}` : ""],
    ["submit", "submit"],
  ] as const;
  for (const [size, viewport] of [
    ["", { width: 1280, height: 800 }],
    ["-phone", { width: 390, height: 844 }],
  ] as const) {
    const page = await browser.newPage({ viewport, colorScheme: "light" });
    await page.goto(service.url);
    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".live.on").waitFor();
    await page.locator(".tasks tbody tr").first().waitFor();
    for (const [name, route] of views) {
      await page.goto(`${service.url}/#/${route}`);
      await sleep(1500); // charts, counts and the timeline load
      const out = join(IMAGES, `dashboard-${name}${size}.png`);
      await page.screenshot({ path: out, fullPage: size === "" });
      console.log(`wrote ${out}`);
    }
    await page.close();
  }
  console.log(`after ${n} submissions`);
} finally {
  await browser.close();
  await service.close(0);
  rmSync(dir, { recursive: true, force: true });
}
