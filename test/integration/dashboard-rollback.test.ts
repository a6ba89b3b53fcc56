// The dashboard's rollback action in a real headless Chromium against the real service (Nomad simulator): the app
// card shows the plan the API answers, refuses until the app's name is typed, keeps what was typed while live
// events redraw the card, queues the rollback, and the feed shows it as a rollback that succeeds.
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { launchChromium, requireChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { nonce } from '../support/docker-fixture.js';
import { deployReleases, releaseImage, releaseSpec, removeReleaseImages, tagReleaseImages } from '../support/image-releases.js';
import { dockerHost, requireDocker } from '../support/services.js';
import { startTestService, type TestService } from '../support/test-service.js';

describe('dashboard rollback action in headless Chromium', function () {
  this.timeout(120_000);
  const app = `rbw-${nonce()}`;
  const image = (n: number) => releaseImage(app, n);
  let browser: Browser;
  let svc: TestService;

  before(async () => {
    requireChromium();
    await requireDocker();
    await tagReleaseImages(app, [1, 2]);
    svc = await startTestService({ env: { DOCKER_HOST: dockerHost() }, specs: { [app]: releaseSpec(app, 1) } });
    await deployReleases(svc, app, [1, 2]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    await removeReleaseImages(app, [1, 2]);
  });

  it('shows the plan, asks for the app name, and queues a rollback the feed shows succeeding', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await signIn(context, svc.token);
    const problems: string[] = [];
    const page = await watchedPage(context, problems);
    await page.goto(`${svc.url}/`);
    await page.locator('#conn[data-state="live"]').waitFor();
    const card = page.locator(`[data-app="${app}"]`);
    await card.getByRole('button', { name: 'Roll back…' }).click();
    await card.locator('form.rollback-plan').waitFor();
    const plan = await card.locator('form.rollback-plan').innerText();
    expect(plan).to.contain(`now ${image(2)}`).and.contain(`back to ${image(1)}`).and.contain('no migration ran since');

    // A wrong name queues nothing.
    await card.getByLabel(`type ${app} to confirm`).fill('not-it');
    await card.getByRole('button', { name: 'Roll back', exact: true }).click();
    await card.getByRole('alert').filter({ hasText: `type ${app} to confirm` }).waitFor();
    const before = (await (await svc.api(`/api/deploys?app=${app}`)).json()) as { deploys: unknown[] };
    expect(before.deploys).to.have.length(2);

    // A live event redraws the card; the panel and what was typed in it stay.
    await card.getByLabel(`type ${app} to confirm`).fill(app);
    await svc.service.sagaLog.append({ sagaId: 'unrelated', app, source: 'test', category: 'deploy', action: 'deploy.queued', message: 'x', metadata: {} });
    await page.waitForTimeout(300);
    expect(await card.getByLabel(`type ${app} to confirm`).inputValue()).to.equal(app);

    await card.getByRole('button', { name: 'Roll back', exact: true }).click();
    const link = card.locator('a', { hasText: /^[0-9a-f-]{36}$/ });
    await link.waitFor();
    const sagaId = (await link.innerText()).trim();
    await page.locator(`#feed [data-saga="${sagaId}"][data-state="succeeded"]`).waitFor({ timeout: 60_000 });
    expect(await page.locator(`#feed [data-saga="${sagaId}"] header`).innerText()).to.contain('rollback');
    const chips = await page.$$eval(`#feed [data-saga="${sagaId}"] .chip`, (list) => list.map((c) => c.getAttribute('data-step')));
    expect(chips, 'a rollback runs no clone, build or test').to.deep.equal(['snapshot', 'migrate', 'submit', 'healthy', 'forge', 'cleanup']);
    expect(svc.nomad.job(app)!.TaskGroups[0]!.Tasks[0]!.Config.image).to.equal(image(1));
    expect(problems).to.deep.equal([]);
    await context.close();
  });
});
