import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axeViolations } from "../helpers/accessibility.js";
import { ARTIFACTS, browserAvailable, launchBrowser } from "../helpers/browser.js";
import { badTokens, type ServiceHarness, startTestService, submitMessage } from "../helpers/service.js";

// The dashboard in a real Chromium against the real service: sign in, submit, watch, cancel, tenants.
describe.skipIf(!browserAvailable())("dashboard", () => {
  let harness: ServiceHarness;
  let browser: Browser;
  let admin: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    harness = await startTestService();
    browser = await launchBrowser();
    admin = await harness.token("root", ["admin"]);
    alice = await harness.token("alice", ["submitter"]);
    bob = await harness.token("bob", ["submitter"]);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.cleanup();
  });

  /** A fresh tab (its own session storage) that fails the test on any script error. */
  async function openPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("pageerror", (error) => {
      throw error;
    });
    await page.goto(harness.url);
    return page;
  }

  async function signIn(token: string, viewport?: { width: number; height: number }): Promise<Page> {
    const page = await openPage(viewport);
    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    await page.locator(".live.on").waitFor(); // the live stream is open
    return page;
  }

  async function submitAs(token: string, type: string, parameters: Record<string, unknown>): Promise<string> {
    const answer = await harness.call("POST", "/v1/tasks", { token, body: submitMessage(type, parameters) });
    expect(answer.status).toBe(202);
    return (answer.body as { header: { task_id: string } }).header.task_id;
  }

  /** Opens every run of progress updates in a timeline (each attempt's are one row until opened). */
  async function openProgressRuns(page: Page): Promise<void> {
    const closed = page.locator('table.timeline tr.run button[aria-expanded="false"]');
    while ((await closed.count()) > 0) await closed.first().click();
  }

  const progressOf = (page: Page, id: string) =>
    page
      .locator(`tr[data-task-id="${id}"] progress`)
      .evaluate((p) => (p as unknown as { value: number }).value);

  it("tells a wrong token apart with a clear message, and keeps a good one for the tab", async () => {
    const page = await openPage();
    const tokens = await badTokens();
    await page.getByLabel("Token").fill(tokens["bad signature"]!);
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^This token was not accepted: .*signature/);
    await page.getByLabel("Token").fill(tokens.expired!);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => alert.textContent()).toMatch(/not accepted: .*expired/);
    await page.screenshot({ path: join(ARTIFACTS, "login-refused.png") });

    // Keyboard only: the token field, then the button.
    await page.getByLabel("Token").fill("");
    await page.getByLabel("Token").focus();
    await page.keyboard.type(alice);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    expect(await page.evaluate('sessionStorage.getItem("taskexec.token")')).toBe(alice);
    await page.reload(); // still signed in
    await page.getByRole("heading", { name: "Tasks" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Token").waitFor();
    expect(await page.evaluate('sessionStorage.getItem("taskexec.token")')).toBeNull();
  });

  it("submits through the form; the row appears live, its progress reaches 100 %, the timeline is in order", async () => {
    const page = await signIn(alice);
    await page.getByRole("link", { name: "Submit" }).click();
    await page.getByLabel("Type").selectOption("sleep");
    await page.getByLabel("Parameters (JSON object)").fill("{ not json");
    await page.getByRole("button", { name: "Submit" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/Parameters are not JSON/);
    await page.getByLabel("Parameters (JSON object)").fill('{"ms": 1500}');
    await page.getByLabel(/^Priority/).fill("7");
    await page.getByRole("button", { name: "Submit" }).click();
    const accepted = page.getByRole("status").filter({ hasText: "Accepted" });
    await accepted.waitFor();
    const id = (await accepted.getByRole("link").textContent())!.replace(/^task /, "");
    await page.screenshot({ path: join(ARTIFACTS, "submit.png") });

    await page.getByRole("link", { name: "Overview" }).click();
    const row = page.locator(`tr[data-task-id="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("sleep");
    // The handler reports progress in steps; the bar passes through them and ends full.
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          seen.add(await progressOf(page, id));
          return row.getAttribute("data-state");
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe("completed");
    expect(await progressOf(page, id)).toBe(1);
    expect([...seen].some((p) => p > 0 && p < 1)).toBe(true);
    expect(await row.locator(".pct").textContent()).toBe("100 %");
    await page.screenshot({ path: join(ARTIFACTS, "overview.png"), fullPage: true });

    await row.getByRole("link").click();
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    const timeline = page.locator("table.timeline tbody tr:not(.run)");
    await expect.poll(() => timeline.last().textContent()).toMatch(/completed/);
    await openProgressRuns(page);
    const sequences = await timeline.evaluateAll((rows) =>
      rows.map((r) => Number(r.getAttribute("data-sequence"))),
    );
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    const events = await timeline.locator("td:nth-child(3)").allTextContents();
    expect(events[0]).toBe("task accepted");
    expect(events).toContain("execution started");
    expect(events).toContain("progress update");
    expect(events[events.length - 1]).toBe("task completed");
    const api = (await harness.call("GET", `/v1/tasks/${id}/events`, { token: alice })).body as {
      events: unknown[];
    };
    expect(sequences.length).toBe(api.events.length);
    expect(await page.locator("pre.json").first().textContent()).toContain('"ms": 1500');
    expect(await page.locator("pre.json").nth(1).textContent()).toContain('"slept_ms": 1500');
    await page.screenshot({ path: join(ARTIFACTS, "detail.png"), fullPage: true });
  });

  it("cancels a long task from its detail view and shows it cancelled", async () => {
    const id = await submitAs(alice, "sleep", { ms: 60_000 });
    const page = await signIn(alice);
    await page.goto(`${harness.url}/#/tasks/${id}`);
    await page.locator(".detail-head .badge", { hasText: "executing" }).waitFor();
    await page.getByRole("button", { name: "Cancel task" }).click();
    await page.getByRole("button", { name: "Yes, cancel it" }).click();
    await page.locator(".detail-head .badge", { hasText: "cancelled" }).waitFor();
    await expect
      .poll(() => page.locator("table.timeline tbody tr").last().textContent())
      .toMatch(/task cancelled/);
    expect(await page.getByRole("button", { name: "Cancel task" }).count()).toBe(0);
    const snapshot = (await harness.call("GET", `/v1/tasks/${id}`, { token: alice })).body as {
      state: string;
    };
    expect(snapshot.state).toBe("cancelled");
    await page.getByRole("link", { name: "← All tasks" }).click();
    await expect
      .poll(() => page.locator(`tr[data-task-id="${id}"]`).getAttribute("data-state"))
      .toBe("cancelled");
  });

  it("shows a submitter only its own tasks, and admin parts only to admins", async () => {
    const alices = await submitAs(alice, "noop", { tenant: "alice" });
    const bobs = await submitAs(bob, "noop", { tenant: "bob" });

    const page = await signIn(bob);
    await page.locator(`tr[data-task-id="${bobs}"]`).waitFor();
    expect(await page.locator(`tr[data-task-id="${alices}"]`).count()).toBe(0);
    expect(await page.locator(".tasks tbody tr").count()).toBe(1);
    // Live: bob's next task appears; alice's, submitted at the same time, does not.
    const alicesLater = await submitAs(alice, "noop", {});
    const bobsLater = await submitAs(bob, "noop", {});
    await page.locator(`tr[data-task-id="${bobsLater}"]`).waitFor();
    expect(await page.locator(`tr[data-task-id="${alicesLater}"]`).count()).toBe(0);
    await expect.poll(() => page.locator('.count[data-state="all"] .n').textContent()).toBe("2");
    expect(await page.getByRole("link", { name: "Audit" }).count()).toBe(0);
    expect(await page.getByRole("columnheader", { name: "Submitter" }).count()).toBe(0);
    // Searching for the other tenant's id finds nothing; opening it directly says so.
    await page.getByRole("searchbox").fill(alices);
    await expect.poll(() => page.locator(".tasks tbody tr").count()).toBe(0);
    await page.goto(`${harness.url}/#/tasks/${alices}`);
    await expect
      .poll(() => page.getByRole("alert").textContent())
      .toMatch(/No task .* that this token may see/);

    const adminPage = await signIn(admin);
    await adminPage.locator(`tr[data-task-id="${alices}"]`).waitFor();
    await adminPage.locator(`tr[data-task-id="${bobs}"]`).waitFor();
    expect(await adminPage.getByRole("columnheader", { name: "Submitter" }).count()).toBe(1);
    await adminPage.getByRole("link", { name: "Audit" }).click();
    await adminPage.getByRole("heading", { name: "Audit trail" }).waitFor();
    await adminPage.getByRole("link", { name: `${alices.slice(0, 8)}…${alices.slice(-8)}` }).waitFor();
    await adminPage.getByLabel("Principal").fill("bob");
    await adminPage.getByLabel("Principal").press("Enter");
    await expect
      .poll(() => adminPage.locator(".audit tbody tr td:nth-child(2)").allTextContents())
      .toEqual(expect.arrayContaining(["bob"]));
    expect(await adminPage.locator(".audit tbody tr td:nth-child(2)").allTextContents()).not.toContain(
      "alice",
    );
    await adminPage.screenshot({ path: join(ARTIFACTS, "audit.png"), fullPage: true });
  });

  it("filters by state and type, shows resources and charts, and fits a phone", async () => {
    const failing = await submitAs(admin, "sleep", { ms: 1, fail_attempts: 9, permanent: true });
    const page = await signIn(admin);
    await page.locator('.count[data-state="failed"]').click();
    await page.locator(`tr[data-task-id="${failing}"]`).waitFor();
    // Read every row's state at once: the rows of the view before the click may still be on their
    // way out, and a locator per row would wait forever for one that has gone.
    const rowStates = `[...document.querySelectorAll(".tasks tbody tr")].map((r) => r.getAttribute("data-state"))`;
    await expect
      .poll(async () => new Set(await page.evaluate<(string | null)[]>(rowStates)))
      .toEqual(new Set(["failed"]));
    expect(await page.locator(`tr[data-task-id="${failing}"] .code`).textContent()).toContain(
      "handler_error",
    );
    await page.locator('.count[data-state="all"]').click();
    await page.getByLabel("Type").selectOption("noop");
    await expect
      .poll(async () => new Set(await page.locator(".tasks tbody tr td:nth-child(2)").allTextContents()))
      .toEqual(new Set(["noop"]));

    const node = page.locator(".resources .node").first();
    await node.waitFor();
    expect(await node.textContent()).toMatch(/alive/);
    expect(await node.locator("meter").count()).toBe(3); // cpu, memory_mb, gpu of the test config
    await expect.poll(() => page.locator(".chart canvas").count()).toBe(4);
    await expect
      .poll(() => page.locator(".chart figcaption").nth(1).textContent(), { timeout: 10_000 })
      .toMatch(/^Wait .*p50 [\d.]+ ms/);

    const phone = await signIn(admin, { width: 390, height: 844 });
    const overflow = await phone.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(ARTIFACTS, "phone.png"), fullPage: true });
  });

  it("shows the connection lost while the server restarts, then goes live again and catches up", async () => {
    const first = await startTestService();
    const port = Number(new URL(first.url).port);
    let second: ServiceHarness | undefined;
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(first.url);
      await page.getByLabel("Token").fill(await first.token("root", ["admin"]));
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.locator(".live.on").waitFor();
      // A second tab follows a task that the restart interrupts.
      const sleeper = await first.call("POST", "/v1/tasks", {
        token: await first.token("root", ["admin"]),
        body: submitMessage("sleep", { ms: 1500 }),
      });
      const sleeperId = (sleeper.body as { header: { task_id: string } }).header.task_id;
      const detail = await context.newPage(); // its own session storage: sign in again
      await detail.goto(`${first.url}/#/tasks/${sleeperId}`);
      await detail.getByLabel("Token").fill(await first.token("root", ["admin"]));
      await detail.getByRole("button", { name: "Sign in" }).click();
      await detail.locator(".detail-head .badge", { hasText: "executing" }).waitFor();
      await first.service.close(0); // a graceful restart ends the streams cleanly
      await page.locator(".live.off").waitFor();
      second = await startTestService({
        data_dir: first.dataDir,
        store: { url: `sqlite:${join(first.dataDir, "taskexec.db")}`, synchronous: "normal" },
        http: { port },
      });
      await page.locator(".live.on").waitFor({ timeout: 15_000 });
      const answer = await second.call("POST", "/v1/tasks", {
        token: await second.token("root", ["admin"]),
        body: submitMessage("noop"),
      });
      const id = (answer.body as { header: { task_id: string } }).header.task_id;
      await page.locator(`tr[data-task-id="${id}"][data-state="completed"]`).waitFor();
      // The detail resumed from the last sequence it had: the requeued task's run, in order, to the end.
      await detail.locator(".detail-head .badge", { hasText: "completed" }).waitFor({ timeout: 15_000 });
      const timeline = detail.locator("table.timeline tbody tr:not(.run)");
      await expect.poll(() => timeline.last().textContent()).toMatch(/task completed/);
      await openProgressRuns(detail);
      const sequences = await timeline.evaluateAll((rows) =>
        rows.map((r) => Number(r.getAttribute("data-sequence"))),
      );
      expect(sequences).toEqual(sequences.map((_, i) => i + 1));
    } finally {
      await context.close();
      await second?.cleanup();
      await first.cleanup();
    }
  });

  it("passes axe's WCAG 2.1 AA checks on every view, wide and narrow", async () => {
    const id = await submitAs(admin, "sleep", { ms: 1, fail_attempts: 9, permanent: true });
    const found: Record<string, unknown[]> = {};
    const check = async (page: Page, view: string) => {
      const violations = await axeViolations(page);
      if (violations.length > 0) found[view] = violations;
    };
    const login = await openPage();
    await login.getByLabel("Token").waitFor();
    await check(login, "sign-in");
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      const page = await signIn(admin, viewport);
      await page.locator(`tr[data-task-id="${id}"]`).waitFor();
      await check(page, `overview ${viewport.width}`);
      await page.goto(`${harness.url}/#/tasks/${id}`);
      await page.getByRole("heading", { name: "Timeline" }).waitFor();
      await page.locator(".error-box").waitFor();
      await check(page, `task ${viewport.width}`);
      await page.goto(`${harness.url}/#/submit`);
      await page.getByLabel("Type").waitFor();
      await check(page, `submit ${viewport.width}`);
      await page.goto(`${harness.url}/#/audit`);
      await page.locator(".audit tbody tr").first().waitFor();
      await check(page, `audit ${viewport.width}`);
    }
    expect(found).toEqual({});
  });

  it("needs no sign-in when the server runs without auth (loopback only)", async () => {
    const open = await startTestService({ auth: { enabled: false } });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(open.url);
      await page.getByRole("heading", { name: "Tasks" }).waitFor();
      expect(await page.locator(".who").textContent()).toContain("anonymous");
      expect(await page.getByLabel("Token").count()).toBe(0);
    } finally {
      await context.close();
      await open.cleanup();
    }
  });
});
