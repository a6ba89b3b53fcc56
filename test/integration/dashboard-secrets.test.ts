// The dashboard's Secrets form in headless Chromium against the real service: setting a value edits the app's
// secrets file (a copy of a real sops-made one), deleting asks first, the page never shows the value, and a
// refused token brings up the token prompt.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, signIn, watchedPage } from '../support/dashboard-browser.js';
import { loadAgeIdentities } from '../../src/integrations/sops/age-identities.js';
import { decryptSopsFile } from '../../src/integrations/sops/decrypt-sops.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import { specFor, startTestService, type TestService } from '../support/test-service.js';

const KEY_FILE = path.join(fixturesDir(), 'sops', 'humphd-sops-age', 'key.txt');
const VALUE = 'dashboard-Value-3e9a71c0d5';

describe('dashboard secrets form in headless Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  let svc: TestService;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const secretsFile = () => path.join(svc.appsDir, 'shop', 'secrets.enc.yaml');
  const decrypted = async () => (await decryptSopsFile(secretsFile(), await loadAgeIdentities({ SOPS_AGE_KEY_FILE: KEY_FILE }))).data;

  before(async () => {
    browser = await launchChromium();
    svc = await startTestService({ specs: { shop: specFor('shop', 'https://git.example.com/acme/shop.git') }, env: { SOPS_AGE_KEY_FILE: KEY_FILE } });
    fs.copyFileSync(path.join(fixturesDir(), 'sops', 'humphd-sops-age', 'secret.enc.yaml'), secretsFile());
    context = await browser.newContext();
    await signIn(context, svc.token);
    page = await watchedPage(context, problems);
    await page.goto(`${svc.url}/`);
    await page.locator('#secret-app option[value="shop"]').waitFor({ state: 'attached' });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await svc?.close();
  });

  it('sets a value: the file has it, the page shows the outcome and the saga, and forgets the value', async () => {
    await page.fill('#secret-key', 'FROM_DASHBOARD');
    await page.fill('#secret-value', VALUE);
    await page.click('#secret-set');
    await page.locator('#secret-result [data-outcome="added"]').waitFor();
    expect(await decrypted()).to.include({ FROM_DASHBOARD: VALUE });
    expect(await page.inputValue('#secret-value')).to.equal('');
    const shown = await page.locator('#secret-result').innerText();
    expect(shown).to.contain('FROM_DASHBOARD: added in').and.to.contain("takes effect on shop's next deploy");
    expect(await page.locator('#secret-result a').getAttribute('href')).to.match(/^\/sagas\/[0-9a-f-]{36}$/);
    expect(await page.content()).not.to.contain(VALUE);
    expect(problems).to.deep.equal([]);
  });

  it('shows the receiver\'s refusal of a bad name, and deletes only after the operator confirms', async () => {
    await page.fill('#secret-key', 'sops');
    await page.fill('#secret-value', VALUE);
    await page.click('#secret-set');
    await page.locator('#secret-result .error', { hasText: "key: 'sops' is the metadata block" }).waitFor();

    await page.fill('#secret-key', 'FROM_DASHBOARD');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click('#secret-delete');
    expect(await decrypted()).to.have.property('FROM_DASHBOARD');

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#secret-delete');
    await page.locator('#secret-result [data-outcome="deleted"]').waitFor();
    expect(await decrypted()).not.to.have.property('FROM_DASHBOARD');
    expect(await page.content()).not.to.contain(VALUE);
  });

  it('asks for the token when the saved one is refused', async () => {
    await page.evaluate(() => localStorage.setItem('norn.apiToken', 'wrong-token'));
    await page.fill('#secret-key', 'ANOTHER');
    await page.fill('#secret-value', VALUE);
    await page.click('#secret-set');
    await page.locator('#token-form').waitFor();
    expect(await decrypted()).not.to.have.property('ANOTHER');
  });
});
