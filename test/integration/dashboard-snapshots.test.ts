// The dashboard's Snapshots panel in headless Chromium against the real service and a real PostgreSQL: Take now
// dumps the app's database and lists the snapshot with its saga, and Download saves the very bytes the receiver
// stores, fetched with the token in a header (no request carries it in a URL).
import fs from 'node:fs';
import { expect } from 'chai';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, requireChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { createScratchDatabase, testDatabaseUrl, type ScratchDatabase } from '../support/services.js';
import { startTestService, type TestService } from '../support/test-service.js';

interface SnapshotRow {
  ts: string;
  kind: string;
  path: string;
}

describe('dashboard snapshots panel in headless Chromium (real PostgreSQL)', function () {
  this.timeout(120_000);
  let db: ScratchDatabase;
  let svc: TestService;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const urls: string[] = [];

  before(async () => {
    requireChromium();
    db = await createScratchDatabase('norn_dash_snap');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("create table items (name text); insert into items values ('apple')");
    await client.end();
    const database = new URL(db.url).pathname.slice(1);
    svc = await startTestService({
      specs: {
        shop: { name: 'shop', image: 'norn-base:latest', processes: { web: { port: 8080 } }, infrastructure: { postgres: { database } } },
        plain: { name: 'plain', image: 'norn-base:latest', processes: { web: { port: 8080 } } },
      },
      env: { NORN_API_TOKEN: 'dash-snap-token', NORN_POSTGRES_URL: testDatabaseUrl() },
    });
    browser = await launchChromium();
    context = await browser.newContext({ acceptDownloads: true });
    await signIn(context, svc.token);
    page = await watchedPage(context, problems);
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${svc.url}/`);
    await page.locator('#snapshots-app option[value="shop"]').waitFor({ state: 'attached' });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await svc?.close();
    await db?.drop();
  });

  it('takes a snapshot now, shows its saga, and lists it', async () => {
    await page.selectOption('#snapshots-app', 'shop');
    await page.locator('#snapshots-list .empty', { hasText: 'shop has no snapshot yet' }).waitFor();
    await page.click('#snapshots-take');
    const outcome = page.locator('#snapshots-result [data-outcome="taken"]');
    await outcome.waitFor({ timeout: 60_000 });
    const ts = (await outcome.getAttribute('data-ts'))!;
    expect(ts).to.match(/^\d{8}T\d{6}Z$/);
    expect(await outcome.innerText()).to.match(new RegExp(`^snapshot ${ts} taken \\(\\d+(\\.\\d)? (B|KiB)\\) · saga$`));
    const sagaHref = (await outcome.locator('a').getAttribute('href'))!;
    const saga = (await (await svc.api(`/api/${sagaHref.slice(1)}`)).json()) as { events: { action: string; metadata: { verb?: string } }[] };
    expect(saga.events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    expect(saga.events[0]!.metadata.verb).to.equal('snapshots take');
    await page.locator(`#snapshots-list tr[data-ts="${ts}"][data-kind="manual"]`).waitFor();
  });

  it('downloads a snapshot file byte for byte, with the token never in a URL', async () => {
    const { snapshots } = (await (await svc.api('/api/apps/shop/snapshots')).json()) as { snapshots: SnapshotRow[] };
    const [snapshot] = snapshots;
    expect(snapshot, 'the snapshot taken before').to.not.equal(undefined);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`#snapshots-list tr[data-ts="${snapshot!.ts}"] button`, { hasText: 'Download' }).click()]);
    expect(download.suggestedFilename()).to.equal(snapshot!.path.split('/').pop());
    const saved = await download.path();
    expect(fs.readFileSync(saved).equals(fs.readFileSync(snapshot!.path)), 'the downloaded file is the stored dump').to.equal(true);
    await page.locator('#snapshots-result [data-outcome="exported"]').waitFor();
    expect(urls.filter((u) => u.includes(svc.token))).to.deep.equal([]);
    expect(problems).to.deep.equal([]);
  });

  it('shows the receiver\'s refusal for an app without a database', async () => {
    await page.selectOption('#snapshots-app', 'plain');
    await page.click('#snapshots-take');
    await page.locator('#snapshots-result .error', { hasText: 'plain declares no infrastructure.postgres database' }).waitFor();
  });
});
