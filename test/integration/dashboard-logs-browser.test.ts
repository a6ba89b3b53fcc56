// The dashboard's logs view in a real headless Chromium against the real service and the Nomad simulator: the app
// card links to it, it shows each instance's lines and then what they write next, an app's markup stays text,
// and leaving the page closes the stream behind it.
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { launchChromium, signIn } from '../support/dashboard-browser.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { nonce } from '../support/docker-fixture.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

describe('dashboard logs view in headless Chromium', function () {
  this.timeout(120_000);
  const app = `dlog-${nonce()}`;
  let browser: Browser;
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    browser = await launchChromium();
    repo = createTestRepo(app);
    svc = await startTestService({ specs: { [app]: specFor(app, repo.url) } });
    const sha = repo.commit({ 'README.md': 'x\n' });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    await eventually('the deploy to succeed', async () => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string } }).saga.status === 'succeeded' ? true : undefined, 60_000);
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    repo?.remove();
  });

  it('follows the instances\' output from the app card, keeps markup as text, and closes the stream on leaving', async () => {
    const alloc = svc.nomad.allocations(app).find((a) => a.DesiredStatus === 'run')!;
    svc.nomad.writeLog(alloc.ID, 'web', 'stdout', 'before <img src=x onerror="window.pwned=1"> opening\n');
    const context = await browser.newContext();
    await signIn(context, svc.token);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));

    await page.goto(svc.url);
    await page.click(`[data-app="${app}"] a[href="/apps/${app}/logs"]`);
    await page.waitForSelector('.log-line');
    const prefix = `web/${alloc.ID.slice(0, 8)} `;
    await eventually('the old line', async () => ((await page.textContent('.logs'))?.includes(`${prefix}before <img src=x onerror="window.pwned=1"> opening`) ? true : undefined));
    svc.nomad.writeLog(alloc.ID, 'web', 'stderr', 'written after opening\n');
    await page.waitForSelector('.log-line.stderr');
    expect(await page.textContent('.log-line.stderr')).to.equal(`${prefix}written after opening`);
    expect(await page.$$('.logs img'), 'markup in a line stays text').to.have.length(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).to.equal(undefined);
    expect(problems).to.deep.equal([]);

    await page.close();
    await eventually('no log follower left at Nomad', async () => (svc.nomad.logFollowers(alloc.ID, 'web', 'stdout') + svc.nomad.logFollowers(alloc.ID, 'web', 'stderr') === 0 ? true : undefined));
    await context.close();
  });
});
