// Debian's Chromium, headless, for the dashboard tests (never a downloaded browser; playwright gives each launch a
// fresh throwaway profile), signed in the way the dashboard's token form does it, and pages whose errors are kept
// for the test to assert none.
import fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** Fails, saying what to run, when Debian's Chromium is not installed. */
export function requireChromium(): void {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash test/support/start-services.sh\` (it installs Debian's chromium)`);
}

/** Headless, and quiet: no background traffic of its own (updates, sync, QUIC) beside what the page asks for. */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Every page of `context` finds `token` where the dashboard's token form stores it once entered. */
export async function signIn(context: BrowserContext, token: string): Promise<void> {
  await context.addInitScript((t) => localStorage.setItem('norn.apiToken', t), token);
}

/**
 * A new page whose console errors and page errors are pushed onto `problems`, to be asserted empty. A console
 * error containing `expectedConsoleError` is not one: the browser logs a refused request itself when a test
 * means it to be refused.
 */
export async function watchedPage(context: BrowserContext, problems: string[], opts: { expectedConsoleError?: string } = {}): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !(opts.expectedConsoleError !== undefined && m.text().includes(opts.expectedConsoleError))) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return page;
}
