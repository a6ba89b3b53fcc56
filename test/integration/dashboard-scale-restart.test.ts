// The app card's Scale… and Restart… actions in headless Chromium against the real service on the real Docker
// engine (host networking): a wrong app name changes nothing, the typed name survives a redraw of the card, and
// each confirmed action shows its saga and follows it to its outcome while the engine really runs two instances,
// then restarts them. Needs `bash test/support/start-services.sh` (dockerd and norn-base:latest).
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, requireChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { startDockerAppService, type DockerAppService } from '../support/docker-app-service.js';
import { webAppFiles } from '../support/docker-runtime-app.js';
import { nonce, rawDocker } from '../support/docker-fixture.js';
import type { TestService } from '../support/test-service.js';

interface Instance {
  process: string;
  id: string;
  healthy: boolean | null;
}

describe('dashboard scale and restart actions in headless Chromium (real Docker engine)', function () {
  this.timeout(300_000);
  const app = `dsr-${nonce()}`;
  let rig: DockerAppService | undefined;
  let svc: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const instances = async () => (await (await svc.api(`/api/apps/${app}/instances`)).json()) as Instance[];
  const card = () => page.locator(`[data-app="${app}"]`);

  before(async () => {
    requireChromium();
    rig = await startDockerAppService(app, { gate: { minHealthySeconds: 1, healthyDeadlineSeconds: 30 }, env: { NORN_API_TOKEN: 'dash-ops-token' } });
    svc = rig.svc;
    await rig.deploy(webAppFiles('v1'));

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await signIn(context, svc.token);
    // The refused count is meant to be refused: the browser logs its 400 itself.
    page = await watchedPage(context, problems, { expectedConsoleError: 'status of 400' });
    await page.goto(`${svc.url}/`);
    await page.locator('#conn[data-state="live"]').waitFor();
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await rig?.close();
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
