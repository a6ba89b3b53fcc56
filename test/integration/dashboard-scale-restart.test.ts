// The app card's Scale… and Restart… actions in headless Chromium against the real service on the real Docker
// engine (host networking): a wrong app name changes nothing, the typed name survives a redraw of the card, and
// each confirmed action shows its saga and follows it to its outcome while the engine really runs two instances,
// then restarts them. Needs `bash test/support/start-services.sh` (dockerd and norn-base:latest).
import fs from 'node:fs';
import { expect } from 'chai';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { removeAppContainers, webAppFiles, webAppSpec } from '../support/docker-runtime-app.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { githubPush, post } from '../support/signed-delivery.js';
import { eventually, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';

const CHROMIUM = '/usr/bin/chromium';

interface Instance {
  process: string;
  id: string;
  healthy: boolean | null;
}

describe('dashboard scale and restart actions in headless Chromium (real Docker engine)', function () {
  this.timeout(300_000);
  const app = `dsr-${nonce()}`;
  let repo: TestRepo;
  let svc: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const instances = async () => (await (await svc.api(`/api/apps/${app}/instances`)).json()) as Instance[];
  const card = () => page.locator(`[data-app="${app}"]`);

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash test/support/start-services.sh\` (it installs Debian's chromium)`);
    await requireDocker();
    repo = createTestRepo(app);
    svc = await startTestService({
      env: { NORN_RUNTIME: 'docker', DOCKER_HOST: dockerHost(), NORN_DOCKER_NETWORK: 'host', NORN_DOCKER_MIN_HEALTHY_SECONDS: '1', NORN_HEALTHY_DEADLINE_SECONDS: '30', NORN_API_TOKEN: 'dash-ops-token' },
      specs: { [app]: webAppSpec(app, repo.url) },
    });
    const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha: repo.commit(webAppFiles('v1')) }));
    expect(res.status).to.equal(202);
    const sagaId = (res.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually(`deploy ${sagaId} to end`, async () => {
      const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { saga: { status: string; error: string | null } };
      return ['queued', 'running'].includes(s.saga.status) ? undefined : s.saga;
    }, 150_000);
    expect(saga.status, saga.error ?? '').to.equal('succeeded');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript((token) => localStorage.setItem('norn.apiToken', token), svc.token);
    page = await context.newPage();
    page.on('console', (m) => {
      // The refused count is meant to be refused: the browser logs its 400 itself.
      if (m.type() === 'error' && !m.text().includes('status of 400')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${svc.url}/`);
    await page.locator('#conn[data-state="live"]').waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await svc?.close();
    repo?.remove();
    await removeAppContainers(app);
  });

  it('scales after the app name is typed, and follows the saga until two healthy instances run', async () => {
    await card().getByRole('button', { name: 'Scale…' }).click();
    const form = card().locator('form[data-verb="scale"]');
    await form.waitFor();
    expect(await form.getByLabel('process to scale').locator('option').allInnerTexts()).to.deep.equal(['web (1 running)']);

    // A wrong name queues nothing; a count the receiver refuses shows its reason, and changes nothing either.
    await form.getByLabel(`type ${app} to confirm`).fill('not-it');
    await form.getByRole('button', { name: 'Scale', exact: true }).click();
    await form.getByRole('alert').filter({ hasText: `type ${app} to confirm` }).waitFor();
    await form.getByLabel('instances').fill('99');
    await form.getByLabel(`type ${app} to confirm`).fill(app);
    await form.getByRole('button', { name: 'Scale', exact: true }).click();
    await form.getByRole('alert').filter({ hasText: 'count: must be a whole number from 1 to 50' }).waitFor();
    await form.getByLabel('instances').fill('2');
    const events = (await (await svc.api(`/api/apps/${app}/events`)).json()) as { events: { action: string }[] };
    expect(events.events.map((e) => e.action)).not.to.include('operation.start');

    // A live event redraws the card; the panel and what was typed in it stay.
    await form.getByLabel(`type ${app} to confirm`).fill(app);
    await card().evaluate((el) => el.setAttribute('data-old-card', ''));
    await svc.service.sagaLog.append({ sagaId: 'unrelated', app, source: 'test', category: 'deploy', action: 'deploy.queued', message: 'x', metadata: {} });
    // The feed and the app cards are drawn by the same event: once the feed shows it, the card is a new element.
    await page.locator('#feed [data-saga="unrelated"]').waitFor();
    expect(await card().getAttribute('data-old-card'), 'the card was redrawn').to.equal(null);
    expect(await form.getByLabel(`type ${app} to confirm`).inputValue()).to.equal(app);

    await form.getByRole('button', { name: 'Scale', exact: true }).click();
    const outcome = card().locator('[data-action="scale-restart"] [data-outcome]');
    await card().locator('[data-action="scale-restart"] [data-outcome="succeeded"]').waitFor({ timeout: 120_000 });
    const sagaId = (await outcome.getAttribute('data-saga'))!;
    expect(await outcome.innerText()).to.contain(`scale ${sagaId}`).and.contain('web scaled from 1 to 2');
    expect(await outcome.locator('a').getAttribute('href')).to.equal(`/sagas/${sagaId}`);
    const running = await instances();
    expect(running.filter((i) => i.process === 'web' && i.healthy)).to.have.length(2);
  });

  it('restarts every service process after confirmation and shows each instance healthy again', async () => {
    const docker = rawDocker();
    const running = await instances();
    const startedAt = async (id: string) => (await docker.getContainer(id).inspect()).State.StartedAt;
    const before = await Promise.all(running.map((i) => startedAt(i.id)));
    await card().getByRole('button', { name: 'Restart…' }).click();
    const form = card().locator('form[data-verb="restart"]');
    await form.waitFor();
    expect(await form.getByLabel('process to restart').locator('option').allInnerTexts()).to.deep.equal(['every service process', 'web (2 running)']);
    await form.getByLabel(`type ${app} to confirm`).fill(app);
    await form.getByRole('button', { name: 'Restart', exact: true }).click();
    const outcome = card().locator('[data-action="scale-restart"] [data-outcome]');
    await card().locator('[data-action="scale-restart"] [data-outcome="succeeded"]').waitFor({ timeout: 120_000 });
    expect(await outcome.innerText()).to.contain('restarted 2 instance(s) of every service process, each healthy again');
    const after = await Promise.all(running.map((i) => startedAt(i.id)));
    after.forEach((at, k) => expect(at, `instance ${k} started again`).not.to.equal(before[k]));
    expect(problems).to.deep.equal([]);
  });
});
