import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium (CI installs the package); TASKEXEC_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.TASKEXEC_CHROMIUM ?? "/usr/bin/chromium";

/** Where screenshots go: test artifacts, not committed. */
export const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-artifacts", "dashboard");

/**
 * Whether the browser tests can run. Without Chromium they are skipped with a message, except
 * under CI, where a missing browser fails the run.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing: CI must install the chromium package`);
  console.warn(`skipping the dashboard tests: ${CHROMIUM} not found (apt-get install chromium)`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}
