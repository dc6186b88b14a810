// What a newcomer met in the dashboard (issue: a user's first hour, items 9–15), in a real
// Chromium at a desktop's size and a phone's, against the real service.
import { join } from "node:path";
import type { Browser, ConsoleMessage, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser.js";
import { type ServiceHarness, startTestService, submitMessage } from "../helpers/service.js";

const DESKTOP = { width: 1280, height: 800 };

/** expect.poll with room for a loaded machine (its default gives up after one second). */
const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 10_000 });
const PHONE = { width: 390, height: 844 };

describe.skipIf(!browserAvailable())("dashboard, as a newcomer meets it", () => {
  let harness: ServiceHarness;
  let browser: Browser;
  let admin: string;
  let failedId: string;
  let consoleErrors: string[];

  beforeAll(async () => {
    harness = await startTestService({ node_id: "node-a" });
    browser = await launchBrowser();
    admin = await harness.token("root", ["admin"]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.cleanup();
  });

  /** A signed-in tab at a size; every console error it logs is kept for the last test. */
  async function signIn(viewport: { width: number; height: number }, route = ""): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("pageerror", (error) => consoleErrors.push(`pageerror: ${error.message}`));
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() === "error") consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    await page.goto(harness.url);
    await page.getByLabel("Token").fill(admin);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    await page.locator(".live.on").waitFor();
    if (route !== "") await page.goto(`${harness.url}/#/${route}`);
    return page;
  }

  async function submit(type: string, parameters: Record<string, unknown>, extra = {}): Promise<string> {
    const answer = await harness.call("POST", "/v1/tasks", {
      token: admin,
      body: submitMessage(type, parameters, extra),
    });
    expect(answer.status).toBe(202);
    return (answer.body as { header: { task_id: string } }).header.task_id;
  }

  async function waitForState(id: string, state: string): Promise<void> {
    await expect
      .poll(
        async () =>
          ((await harness.call("GET", `/v1/tasks/${id}`, { token: admin })).body as { state: string }).state,
        {
          timeout: 15_000,
        },
      )
      .toBe(state);
  }

  it("says 'no data' in charts with nothing to draw, before any task", async () => {
    consoleErrors = [];
    const page = await signIn(DESKTOP);
    const empty = page.locator('.chart[data-empty="true"]');
    await eventually(() => empty.count()).toBe(4);
    expect(await page.locator(".no-data").first().textContent()).toBe("No data in the last 15 minutes");
    await page.context().close();
  });

  it("shows a failed task's last node, a red bar, no 'retryable' after its last attempt, and one row per attempt's progress", async () => {
    failedId = await submit("sleep", { ms: 600, fail_attempts: 5 }, { maxAttempts: 2 });
    await waitForState(failedId, "failed");
    const page = await signIn(DESKTOP, `tasks/${failedId}`);
    await page.locator(".detail-head .badge", { hasText: "failed" }).waitFor();
    const node = page.locator("dl.fields dt", { hasText: "Node" }).locator("xpath=following-sibling::dd[1]");
    await eventually(() => node.textContent()).toBe("node-a");
    expect(await page.locator('.detail-head .progress[data-outcome="failed"]').count()).toBe(1);
    // Strings run in the page (its types are the browser's). The bar's fill is a pseudo element
    // getComputedStyle cannot read; it is painted with --fill, which it can.
    const fill = (selector: string) =>
      page.evaluate<string>(
        `getComputedStyle(document.querySelector('${selector}')).getPropertyValue('--fill')`,
      );
    const bad = await page.evaluate<string>("getComputedStyle(document.body).getPropertyValue('--bad')");
    expect(await fill(".detail-head progress")).toBe(bad);
    const error = await page.locator(".error-box").textContent();
    expect(error).toContain("not retried");
    expect(error).not.toMatch(/\(retryable\)/);

    // Two attempts of ten progress updates each: two rows that open.
    await eventually(() => page.locator("table.timeline tr.run").count()).toBe(2);
    const run = page.locator("table.timeline tr.run").first();
    expect(await run.textContent()).toMatch(/10 progress updates.*→ 100 %/);
    await run.getByRole("button").click();
    expect(await page.locator("table.timeline tr.nested").count()).toBe(10);
    await page.screenshot({ path: join(ARTIFACTS, "first-hour-failed-task.png"), fullPage: true });
    await page.context().close();
  });

  it("describes the chosen type's parameters, fills in its example, and shows a rejection once, as a list", async () => {
    const page = await signIn(DESKTOP, "submit");
    await page.getByLabel("Type").selectOption("sleep");
    const box = page.getByLabel("Parameters (JSON object)");
    await eventually(async () => JSON.parse(await box.inputValue()) as unknown).toEqual({ ms: 3000 });
    const schema = page.locator("#submit-schema");
    expect(await schema.textContent()).toMatch(/ms\s*number 0–86400000, required/);
    expect(await schema.textContent()).toContain("how long to sleep");
    await page.getByLabel("Type").selectOption("noop");
    await eventually(() => box.inputValue()).toBe("{}");

    await page.getByLabel("Type").selectOption("sleep");
    await box.fill('{"ms": "soon", "fail_attempts": -1}');
    await page.getByRole("button", { name: "Submit" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.count()).toBe(1);
    expect(await alert.locator("li").allTextContents()).toEqual([
      expect.stringMatching(/^ms: /),
      expect.stringMatching(/^fail_attempts: /),
    ]);
    expect(await alert.textContent()).not.toContain("body.task_specification");
    // The example as it is submits.
    await page.getByLabel("Type").selectOption("noop");
    await page.getByRole("button", { name: "Submit" }).click();
    await page.getByRole("status").filter({ hasText: "Accepted" }).waitFor();
    await page.context().close();
  });

  it("fills in the example of the type chosen before the descriptions arrived", async () => {
    // Seen in CI on a busy machine: a type chosen while /v1/types was still on its way got the
    // first type's example when the descriptions came.
    const page = await signIn(DESKTOP);
    await page.route("**/v1/types", async (route) => {
      await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    });
    await page.goto(`${harness.url}/#/submit`);
    await page.getByLabel("Type").selectOption("sleep");
    const box = page.getByLabel("Parameters (JSON object)");
    await eventually(async () => JSON.parse(await box.inputValue()) as unknown).toEqual({ ms: 3000 });
    await page.context().close();
  });

  it("lists the audit trail newest first, with a reason and a rejected row's code", async () => {
    const cancelled = await submit("sleep", { ms: 60_000 });
    await harness.call("POST", `/v1/tasks/${cancelled}/cancel`, {
      token: admin,
      body: { reason: "not needed" },
    });
    const page = await signIn(DESKTOP, "audit");
    const rows = page.locator(".audit tbody tr");
    await eventually(() => rows.count()).toBeGreaterThan(3);
    expect(await rows.first().textContent()).toContain("not needed");
    const rejected = page.locator('.audit tbody tr[data-decision="rejected"]').first();
    expect(await rejected.textContent()).toContain("validation_failed");
    expect(await page.getByRole("columnheader", { name: "Reason" }).count()).toBe(1);
    await page.context().close();
  });

  it("keeps the resources panel and the counts on the same feed, and says how old the panel is", async () => {
    const page = await signIn(DESKTOP);
    const running = await submit("sleep", { ms: 60_000 });
    await eventually(() => page.locator('.count[data-state="executing"] .n').textContent()).toBe("1");
    await eventually(() => page.locator(".node .muted").first().textContent()).toMatch(
      /^1 holding resources/,
    );
    expect(await page.locator(".as-of").textContent()).toMatch(/as of .* ago/);
    await harness.call("POST", `/v1/tasks/${running}/cancel`, { token: admin, body: {} });
    await eventually(() => page.locator(".node .muted").first().textContent()).toMatch(
      /^0 holding resources/,
    );
    expect(await page.locator('.count[data-state="executing"] .n').textContent()).toBe("0");
    // With data now, the charts draw and head with figures over the whole window.
    const rates = page.locator(".chart").first();
    await eventually(() => rates.getAttribute("data-empty")).toBe("false");
    expect(await rates.locator("figcaption").textContent()).toMatch(/15 min: submitted [\d.]+ \/s/);
    await page.context().close();
  });

  for (const [name, viewport] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    it(`has no horizontal scroll on any page at ${viewport.width} × ${viewport.height} (${name})`, async () => {
      const page = await signIn(viewport);
      for (const route of ["", `tasks/${failedId}`, "submit", "audit"]) {
        await page.goto(`${harness.url}/#/${route}`);
        await page.locator("main h1, main h2").first().waitFor();
        await page.waitForTimeout(300);
        const [scrollWidth, innerWidth] = await page.evaluate<[number, number]>(
          "[document.documentElement.scrollWidth, window.innerWidth]",
        );
        expect([route, scrollWidth]).toEqual([route, Math.min(scrollWidth, innerWidth)]);
        // Nor inside: a table wider than its box scrolls there (554 px in 343 px, before).
        const overflowing = await page.evaluate<string[]>(
          `[...document.querySelectorAll(".table-wrap, .card, .counts ~ *")]
            .filter((box) => box.scrollWidth > box.clientWidth + 1)
            .map((box) => box.className + ": " + box.scrollWidth + " in " + box.clientWidth)`,
        );
        expect([route, overflowing]).toEqual([route, []]);
        await page.screenshot({
          path: join(ARTIFACTS, `first-hour-${name}-${route.split("/")[0] || "overview"}.png`),
        });
      }
      if (name === "phone") {
        // The counts are one row, not four.
        await page.goto(`${harness.url}/#/`);
        await page.locator(".counts .count").first().waitFor();
        const rows = await page.evaluate<number>(
          "new Set([...document.querySelectorAll('.counts .count')].map((b) => b.offsetTop)).size",
        );
        expect(rows).toBe(1);
      }
      await page.context().close();
    });
  }

  it("logs no console error on a normal visit", async () => {
    // Every page above was a normal visit: a sign-in, the overview, a task, the form with a
    // rejection and an acceptance, the audit trail.
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    await page.goto(harness.url); // the first load, before a token: no 401 probe
    await page.getByLabel("Token").waitFor();
    await page.waitForTimeout(300);
    await context.close();
    expect(consoleErrors).toEqual([]);
  });
});
