// The dashboard's Schedules and functions panel in headless Chromium against the real service on the real Docker
// engine: the scheduled process is listed active, Run now is followed to its end and shows in the history as a
// manual run, Pause and Resume change its state (run now refused while paused, with the receiver's reason), and a
// function is invoked with a payload it reads from $NORN_PAYLOAD_FILE. Needs `bash test/support/start-services.sh`.
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, requireChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { nonce } from '../support/docker-fixture.js';
import { removeAppContainers } from '../support/docker-runtime-app.js';
import { startScheduledAppService } from '../support/scheduled-app.js';
import type { TestService } from '../support/test-service.js';

describe('dashboard schedules and functions panel in headless Chromium (real Docker engine)', function () {
  this.timeout(180_000);
  const app = `dsch-${nonce()}`;
  let svc: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const row = () => page.locator(`#schedules-list tr[data-process="tick"]`);

  before(async () => {
    requireChromium();
    svc = await startScheduledAppService(app, { apiToken: 'dash-cron-token', greetCommand: 'echo "payload=$(cat "$NORN_PAYLOAD_FILE")"' });
    browser = await launchChromium();
    context = await browser.newContext();
    await signIn(context, svc.token);
    // The refused run now is meant to be refused: the browser logs its 409 itself.
    page = await watchedPage(context, problems, { expectedConsoleError: 'status of 409' });
    await page.goto(`${svc.url}/`);
    await page.locator(`#schedules-app option[value="${app}"]`).waitFor({ state: 'attached' });
    await page.click('#schedules-show');
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await svc?.close();
    await removeAppContainers(app);
  });

  it('lists the scheduled process, active, with its time zone', async () => {
    await row().waitFor();
    expect(await row().getAttribute('data-paused')).to.equal('false');
    expect(await row().innerText()).to.contain('0 4 * * * (Europe/Berlin)').and.contain('active');
  });

  it('runs it now, follows the run to its end, and shows it in the history as a manual run', async () => {
    await row().getByRole('button', { name: 'Run now' }).click();
    const outcome = page.locator('#schedules-result [data-outcome]');
    await page.locator('#schedules-result [data-outcome="succeeded"]').waitFor({ timeout: 60_000 });
    const sagaId = (await outcome.getAttribute('data-saga'))!;
    expect(await outcome.innerText()).to.contain('tick started').and.contain(sagaId).and.contain('succeeded');
    const item = page.locator(`#schedules-history [data-history="tick"] li[data-run="${sagaId}"]`);
    await item.waitFor();
    expect(await item.getAttribute('data-state')).to.equal('succeeded');
    expect(await item.innerText()).to.contain('tick (manual) · succeeded · exit 0');
    expect(await item.getAttribute('title')).to.contain('tick ran');
  });

  it('pauses the schedule (run now is then refused with the reason) and resumes it', async () => {
    await row().getByRole('button', { name: 'Pause' }).click();
    await page.locator('#schedules-result [data-outcome="pause"]').waitFor();
    await page.locator('#schedules-list tr[data-process="tick"][data-paused="true"]').waitFor();
    const schedules = (await (await svc.api(`/api/apps/${app}/schedules`)).json()) as { schedules: { paused: unknown }[] };
    expect(schedules.schedules[0]!.paused).to.not.equal(null);
    expect(await row().innerText()).to.contain('paused since');

    await row().getByRole('button', { name: 'Run now' }).click();
    await page.locator('#schedules-result .error', { hasText: 'the schedule of tick is paused; resume it first' }).waitFor();

    await row().getByRole('button', { name: 'Resume' }).click();
    await page.locator('#schedules-result [data-outcome="resume"]').waitFor();
    await page.locator('#schedules-list tr[data-process="tick"][data-paused="false"]').waitFor();
  });

  it('invokes a function with a payload and shows what it printed', async () => {
    const form = page.locator('form.function-invoke[data-process="greet"]');
    await form.getByLabel('payload for greet').fill('{"order":"42 <b>ü</b>"}');
    await form.getByRole('button', { name: 'Invoke' }).click();
    const outcome = page.locator('#schedules-result [data-outcome="succeeded"]');
    await outcome.waitFor({ timeout: 60_000 });
    expect(await page.locator('#schedules-result pre').innerText()).to.contain('payload={"order":"42 <b>ü</b>"}');
    expect(await page.locator('#schedules-result b').count(), 'server text is never markup').to.equal(0);
    const sagaId = (await outcome.getAttribute('data-saga'))!;
    await page.locator(`#schedules-history [data-history="greet"] li[data-run="${sagaId}"]`).waitFor();
    expect(problems).to.deep.equal([]);
  });
});
