// The dashboard's Operate panel in a real headless Chromium against the real service and the Nomad simulator: it
// queues a preflight of a ref, shows an app's canaries waiting for promotion, and promotes them after the
// operator confirms, each answer linking its saga.
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { eventually, specFor, startTestService, type TestService } from '../support/test-service.js';

describe('dashboard Operate panel in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let repo: TestRepo;
  let svc: TestService;
  let page: Page;
  const problems: string[] = [];

  const sagaOf = async (id: string) => (await (await svc.api(`/api/sagas/${id}`)).json()) as { saga: { status: string; kind: string }; events: { action: string; metadata: Record<string, unknown> }[] };
  const deploy = async (image: string) => {
    svc.writeSpec('shop', specFor('shop', repo.url, { image, processes: { web: { port: 8080, health: { path: '/health' }, canary: { count: 1, evaluateAfter: '1h' } } } }));
    await eventually('the new spec', async () => (svc.service.catalog.get('shop')?.spec.image === image ? true : undefined));
    const res = await svc.api('/api/apps/shop/deploy', { method: 'POST', body: '{}' });
    return ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!.sagaId;
  };

  before(async () => {
    requireChromium();
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'shop' });
    svc = await startTestService({ env: { NORN_RUNTIME: 'nomad' } });
    const first = await deploy('registry.example/shop:1');
    await eventually('the first deploy', async () => ((await sagaOf(first)).saga.status === 'succeeded' ? true : undefined), 30_000);
    browser = await launchChromium();
    const context = await browser.newContext();
    await signIn(context, svc.token);
    page = await watchedPage(context, problems);
    await page.goto(`${svc.url}/`);
    await page.waitForSelector('#operate-app option[value="shop"]', { state: 'attached' });
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    repo?.remove();
  });

  it('queues a preflight of the ref typed, linking its saga', async () => {
    await page.fill('#operate-ref', 'main');
    await page.click('#operate-preflight');
    const outcome = await page.waitForSelector('#operate-result [data-outcome="preflight-queued"]');
    expect(await outcome.textContent()).to.match(/^preflight of shop queued for refs\/heads\/main @ [0-9a-f]{12} · saga$/);
    const href = await outcome.$eval('a', (a) => a.getAttribute('href'));
    const sagaId = /\/sagas\/([0-9a-f-]{36})$/.exec(href ?? '')![1]!;
    expect((await sagaOf(sagaId)).saga.kind).to.equal('preflight');
    expect(problems).to.deep.equal([]);
  });

  it('shows canaries waiting for promotion and promotes them once the operator confirms', async () => {
    await page.fill('#operate-ref', '');
    const sagaId = await deploy('registry.example/shop:2');
    await eventually('the canaries to wait', async () => ((await sagaOf(sagaId)).events.some((e) => e.action === 'canary.waiting') ? true : undefined), 30_000);

    await page.click('#operate-canary');
    const state = await page.waitForSelector('#operate-result [data-waiting="true"]');
    expect(await state.textContent()).to.match(/job version 1\) running: waiting for promotion; promoted by itself at \d{4}-/);
    expect(await page.textContent('#operate-result pre')).to.equal('web: 1/1 canaries, 1 healthy, 0 unhealthy, not promoted');

    const questions: string[] = [];
    page.once('dialog', (d) => {
      questions.push(d.message());
      void d.dismiss();
    });
    await page.click('#operate-promote');
    await eventually('the confirmation', async () => (questions.length ? true : undefined));
    expect(questions[0]).to.contain("Promote shop's canaries?");
    expect(svc.nomad.deployments('shop').at(-1)!.TaskGroups.web!.Promoted, 'dismissed: nothing promoted').to.equal(false);

    page.once('dialog', (d) => void d.accept());
    await page.click('#operate-promote');
    const done = await page.waitForSelector('#operate-result [data-outcome="promote"]', { timeout: 10_000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}; the panel shows: ${await page.textContent('#operate-result')}`);
    });
    expect(await done.textContent()).to.match(/^promoted the canaries of "web" in deployment [0-9a-f]{8} \(job version 1\): Nomad rolls out the rest · saga$/);
    await eventually('the deploy to succeed', async () => ((await sagaOf(sagaId)).saga.status === 'succeeded' ? true : undefined), 30_000);
    expect(problems).to.deep.equal([]);
  });
});
