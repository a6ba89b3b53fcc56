// The dashboard in a real headless Chromium against the real service: a signed push shows up in the live feed and
// advances step by step without a reload, the saga page shows the log, the page survives a dropped socket, and it
// asks for the API token when the service wants one. Screenshots go to test-output/ for people to look at.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { launchChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import type { SagaAction } from '../../src/events/saga-actions.js';

const OUTPUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-output');

interface ApiEvent {
  seq: number;
  action: string;
  message: string;
  metadata: Record<string, unknown>;
}
interface Saga {
  saga: { status: string; error: string | null };
  events: ApiEvent[];
}

async function push(svc: TestService, repo: TestRepo, file: string): Promise<string> {
  const sha = repo.commit({ [file]: String(Date.now()) }, `change ${file}`);
  const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
  expect(res.status, JSON.stringify(res.body)).to.equal(202);
  return (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
}

async function sagaWhenEnded(svc: TestService, sagaId: string): Promise<Saga> {
  return eventually(`saga ${sagaId} to end`, async () => {
    const res = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as Saga;
    return ['succeeded', 'failed', 'interrupted', 'superseded'].includes(res.saga?.status) ? res : undefined;
  });
}

/** The state of each step after the saga's last event for it, as the page should show it. */
function stepStates(events: ApiEvent[]): Record<string, string> {
  const states: Record<string, string> = {};
  const status: Record<string, string> = { 'step.start': 'running', 'step.complete': 'complete', 'step.failed': 'failed', 'step.skipped': 'skipped' };
  for (const e of events) if (status[e.action]) states[String(e.metadata.step)] = status[e.action]!;
  return states;
}

async function chipStates(page: Page, sagaId: string): Promise<Record<string, string>> {
  return page.$$eval(`[data-saga="${sagaId}"] .chip`, (chips) => Object.fromEntries(chips.map((c) => [c.getAttribute('data-step'), c.getAttribute('data-state')])));
}

async function logSeqs(page: Page, sagaId: string): Promise<number[]> {
  return page.$$eval(`[data-saga="${sagaId}"] .log li`, (lines) => lines.map((l) => Number(l.getAttribute('data-seq'))));
}

describe('dashboard in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let repo: TestRepo;
  let svc: TestService;
  let context: BrowserContext;
  let problems: string[];

  before(async () => {
    browser = await launchChromium();
    repo = createTestRepo('shop');
    fs.mkdirSync(OUTPUT, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    repo?.remove();
  });
  beforeEach(async () => {
    problems = [];
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  });
  afterEach(async () => {
    await context?.close();
    await svc?.close();
  });

  describe('signed in with the token the service generated', () => {
    beforeEach(async () => {
      svc = await startTestService({ specs: { shop: specFor('shop', repo.url) } });
      // What the token form stores once the operator has entered the token (tested below).
      await signIn(context, svc.token);
    });

    it('shows a pushed deploy advancing step by step without a reload, then its saga page', async () => {
      const page = await watchedPage(context, problems);
      await page.goto(`${svc.url}/`);
      await page.locator('[data-app="shop"]', { hasText: 'never deployed' }).waitFor();
      await page.locator('#conn[data-state="live"]').waitFor();
      // Record every card the feed draws, and mark the document: a reload would lose the mark.
      await page.evaluate(() => {
        const w = window as unknown as { seen: string[]; mark: string };
        w.mark = 'no reload';
        w.seen = [];
        new MutationObserver((records) => {
          for (const r of records)
            for (const n of r.addedNodes) {
              if (!(n instanceof HTMLElement) || !n.dataset.saga) continue;
              const chips = [...n.querySelectorAll('.chip')].map((c) => `${c.getAttribute('data-step')}:${c.getAttribute('data-state')}`);
              const snapshot = `${n.dataset.state} ${chips.join(' ')}`;
              if (w.seen.at(-1) !== snapshot) w.seen.push(snapshot);
            }
        }).observe(document.getElementById('feed')!, { childList: true, subtree: true });
      });

      const sagaId = await push(svc, repo, 'README.md');
      const card = page.locator(`[data-saga="${sagaId}"]`);
      await card.locator('[data-step="clone"][data-state="complete"]').waitFor();
      await card.locator('[data-step="cleanup"][data-state="complete"]').waitFor();
      const saga = await sagaWhenEnded(svc, sagaId);
      expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
      await page.locator(`[data-saga="${sagaId}"][data-state="succeeded"]`).waitFor();

      const { seen, mark } = await page.evaluate(() => {
        const w = window as unknown as { seen: string[]; mark: string };
        return { seen: w.seen, mark: w.mark };
      });
      expect(mark).to.equal('no reload');
      // The feed went through the states one event at a time: clone running, clone done while cleanup was still to
      // come, cleanup running, then success.
      const at = (re: RegExp) => seen.findIndex((s) => re.test(s));
      const order = [at(/clone:running/), at(/^running .*clone:complete.*cleanup:pending/), at(/cleanup:running/), at(/^succeeded /)];
      expect(order.every((i) => i >= 0), seen.join('\n')).to.equal(true);
      expect([...order].sort((a, b) => a - b), seen.join('\n')).to.deep.equal(order);
      expect(await chipStates(page, sagaId)).to.include(stepStates(saga.events));

      await page.locator('[data-app="shop"][data-state="succeeded"]').waitFor();
      await page.locator('#deliveries [data-verdict="queued"]').waitFor();
      await page.screenshot({ path: path.join(OUTPUT, 'dashboard-home-desktop.png'), fullPage: true });

      await card.locator('h3 a').click();
      await page.waitForURL(`${svc.url}/sagas/${sagaId}`);
      await page.locator('.saga[data-state="succeeded"]').waitFor();
      const rows = await page.$$eval('#events li', (lis) => lis.map((li) => ({ seq: Number(li.getAttribute('data-seq')), action: li.getAttribute('data-action'), message: li.querySelector('.ev-message')?.textContent })));
      expect(rows).to.deep.equal(saga.events.map((e) => ({ seq: e.seq, action: e.action, message: e.message })));
      expect(await chipStates(page, sagaId)).to.include(stepStates(saga.events));
      await page.screenshot({ path: path.join(OUTPUT, 'dashboard-saga-desktop.png'), fullPage: true });

      // On a phone: one column, nothing wider than the screen.
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      await signIn(phone, svc.token);
      try {
        const small = await watchedPage(phone, problems);
        for (const [url, name] of [[`${svc.url}/`, 'home'], [`${svc.url}/sagas/${sagaId}`, 'saga']] as const) {
          await small.goto(url);
          await small.locator(name === 'home' ? '#deliveries [data-verdict="queued"]' : '#events li').first().waitFor();
          expect(await small.evaluate(() => document.documentElement.scrollWidth), `${name} page width`).to.be.at.most(390);
          await small.screenshot({ path: path.join(OUTPUT, `dashboard-${name}-phone.png`), fullPage: true });
        }
      } finally {
        await phone.close();
      }
      expect(problems).to.deep.equal([]);
    });

    it('follows a deploy as it runs, on its saga page and in the feed, with the running step timed', async () => {
      // Events appended straight to the service's saga log: the deploy stays mid-step for as long as the test wants.
      const sagaId = randomUUID();
      const ev = (action: SagaAction, message: string, metadata: Record<string, unknown> = {}) =>
        svc.service.sagaLog.append({ sagaId, app: 'shop', source: 'test', category: action.split('.')[0]!, action, message, metadata });
      const step = (name: string, index: number) => ({ step: name, index, total: 9 });
      await ev('deploy.queued', 'deploy of shop queued', { ref: 'refs/heads/main', commitSha: 'a'.repeat(40), trigger: 'manual' });
      await ev('step.start', 'clone started', step('clone', 1));

      const sagaPage = await watchedPage(context, problems);
      await sagaPage.goto(`${svc.url}/sagas/${sagaId}`);
      await sagaPage.locator('#events li[data-action="step.start"]').waitFor();
      await sagaPage.locator('#conn[data-state="live"]').waitFor();
      await sagaPage.evaluate(() => ((window as unknown as { mark: string }).mark = 'no reload'));
      const home = await watchedPage(context, problems);
      await home.goto(`${svc.url}/`);
      await home.locator('#conn[data-state="live"]').waitFor();

      await ev('step.complete', 'cloned aaaaaaaaaaaa', { ...step('clone', 1), durationMs: 1234 });
      await ev('step.start', 'build started', step('build', 2));
      await ev('step.progress', 'Step 1/4 : FROM node:20-slim', { step: 'build' });
      const running = `[data-saga="${sagaId}"] [data-step="build"][data-state="running"]`;
      for (const p of [sagaPage, home]) {
        await p.locator(`[data-saga="${sagaId}"] [data-step="clone"][data-state="complete"]`, { hasText: '1.2s' }).waitFor();
        await p.locator(running).waitFor();
      }
      await sagaPage.locator('#events li').nth(4).waitFor();
      expect(await sagaPage.$$eval('#events li', (lis) => lis.map((li) => li.getAttribute('data-action')))).to.deep.equal(['deploy.queued', 'step.start', 'step.complete', 'step.start', 'step.progress']);
      await home.locator(`${running} .chip-time`, { hasText: /^\d+(ms|\.\ds)$/ }).waitFor(); // time so far, ticking
      await home.screenshot({ path: path.join(OUTPUT, 'dashboard-home-running-desktop.png'), fullPage: true });
      await sagaPage.screenshot({ path: path.join(OUTPUT, 'dashboard-saga-running-desktop.png'), fullPage: true });

      await ev('step.failed', 'build failed: exit code 1', { ...step('build', 2), durationMs: 3000, error: 'exit code 1' });
      await ev('deploy.failed', 'build failed: exit code 1', { step: 'build' });
      for (const p of [sagaPage, home]) {
        await p.locator(`[data-saga="${sagaId}"][data-state="failed"] [data-step="build"][data-state="failed"]`).waitFor();
      }
      // No deploys row describes this saga (its events were written by hand), so the API lists no steps for it: the
      // pages draw the steps it reported, and invent none it did not.
      for (const p of [sagaPage, home]) {
        expect(await p.$$eval(`[data-saga="${sagaId}"] .chip`, (list) => list.map((c) => c.getAttribute('data-step')))).to.deep.equal(['clone', 'build']);
      }
      await sagaPage.locator('#events li').nth(6).waitFor();
      expect(await sagaPage.evaluate(() => (window as unknown as { mark?: string }).mark)).to.equal('no reload');
      expect(await sagaPage.locator('.saga .error').textContent()).to.equal('build failed: exit code 1');
      expect(problems).to.deep.equal([]);
    });

    it('shows that it is reconnecting after a dropped socket, then catches up without duplicates', async () => {
      const sockets: { url: string; route: WebSocketRoute }[] = [];
      let refusing = false;
      const page = await watchedPage(context, problems);
      await page.routeWebSocket(/\/ws\b/, (route) => {
        sockets.push({ url: route.url(), route });
        if (refusing) void route.close({ code: 1012, reason: 'test: service restarting' });
        else route.connectToServer();
      });
      await page.goto(`${svc.url}/`);
      await page.locator('#conn[data-state="live"]').waitFor();
      const first = await push(svc, repo, 'a.txt');
      await page.locator(`[data-saga="${first}"][data-state="succeeded"]`).waitFor();
      const lastSeen = Math.max(...(await sagaWhenEnded(svc, first)).events.map((e) => e.seq));

      // Drop the connection and refuse new ones while a whole deploy runs.
      refusing = true;
      const before = sockets.length;
      await sockets.at(-1)!.route.close({ code: 1006, reason: 'test: dropped' });
      await page.locator('#conn[data-state="reconnecting"]', { hasText: 'reconnecting…' }).waitFor();
      const missed = await push(svc, repo, 'b.txt');
      const missedSaga = await sagaWhenEnded(svc, missed);
      await eventually('a refused reconnect attempt', async () => (sockets.length > before ? true : undefined));
      expect(await page.locator(`[data-saga="${missed}"]`).count()).to.equal(0);
      expect(await page.locator('#conn').getAttribute('data-state')).to.equal('reconnecting');

      refusing = false;
      await page.locator(`[data-saga="${missed}"][data-state="succeeded"]`).waitFor({ timeout: 20_000 });
      await page.locator('#conn[data-state="live"]').waitFor();
      for (const s of sockets.slice(before)) expect(new URL(s.url).searchParams.get('since'), s.url).to.equal(String(lastSeen));
      expect(await chipStates(page, missed)).to.include(stepStates(missedSaga.events));

      // Live events flow again on the new connection.
      const after = await push(svc, repo, 'c.txt');
      await page.locator(`[data-saga="${after}"][data-state="succeeded"]`).waitFor();

      for (const id of [first, missed, after]) {
        expect(await page.locator(`[data-saga="${id}"]`).count(), `cards for ${id}`).to.equal(1);
        const seqs = await logSeqs(page, id);
        expect(seqs.length, `log lines of ${id}`).to.be.greaterThan(0);
        expect(new Set(seqs).size, `log lines of ${id}: ${seqs}`).to.equal(seqs.length);
      }
      const missedLast = Math.max(...missedSaga.events.map((e) => e.seq));
      expect((await logSeqs(page, missed)).at(-1)).to.equal(missedLast);
      expect(problems).to.deep.equal([]);
    });
  });

  describe('with NORN_API_TOKEN set', () => {
    const TOKEN = 'dashboard-browser-token';
    beforeEach(async () => {
      svc = await startTestService({ specs: { shop: specFor('shop', repo.url) }, env: { NORN_API_TOKEN: TOKEN } });
    });

    it('asks for the token, keeps it in the browser, and uses it for the API and the live stream', async () => {
      const page = await watchedPage(context, problems);
      await page.goto(`${svc.url}/`);
      await page.locator('#token-form', { hasText: 'needs an API token' }).waitFor();

      await page.fill('#token-input', 'not-the-right-token');
      await page.click('#token-form button[type="submit"]');
      await page.locator('#token-form', { hasText: 'refused' }).waitFor();

      await page.fill('#token-input', TOKEN);
      await page.click('#token-form button[type="submit"]');
      await page.locator('[data-app="shop"]').waitFor();
      await page.locator('#conn[data-state="live"]').waitFor(); // /ws accepted ?token=

      await page.reload();
      await page.locator('[data-app="shop"]').waitFor();
      expect(await page.locator('#token-form').count()).to.equal(0);
      const sagaId = await push(svc, repo, 'd.txt');
      await page.locator(`[data-saga="${sagaId}"][data-state="succeeded"]`).waitFor();
      // The 401s the token prompt answers are expected; nothing else may go wrong.
      expect(problems.filter((p) => !/401 \(Unauthorized\)/.test(p))).to.deep.equal([]);
    });
  });
});
