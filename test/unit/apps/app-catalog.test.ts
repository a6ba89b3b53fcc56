import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AppCatalog } from '../../../src/apps/app-catalog.js';
import type { PushEvent } from '../../../src/webhooks/parsed-delivery.js';

const spec = (name: string, branch = 'main') => `
name: ${name}
image: nginx:1.27
repo: { url: https://github.com/acme/shop.git, branch: ${branch}, autoDeploy: true }
processes:
  web: { port: 8080 }
`;

const push = (ref = 'refs/heads/main'): PushEvent => ({
  kind: 'push',
  forge: 'github',
  deliveryId: 'd-1',
  repository: { fullName: 'acme/shop', urls: ['git@github.com:acme/shop.git'] },
  ref,
  before: '0'.repeat(40),
  after: 'a'.repeat(40),
  deleted: false,
  headCommitMessage: 'change',
  author: 'dev',
  commits: [],
});

/** Polls `check` until it holds or `ms` pass; the catalog reacts asynchronously to file changes. */
async function eventually(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('AppCatalog', () => {
  let dir: string;
  let catalog: AppCatalog;
  let logs: { level: number; msg: string }[];

  function newCatalog(appsDir = dir, pollIntervalMs = 2000): AppCatalog {
    logs = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    return new AppCatalog({ appsDir, debounceMs: 50, pollIntervalMs }, { log });
  }

  async function writeApp(app: string, text: string): Promise<void> {
    await mkdir(path.join(dir, app), { recursive: true });
    await writeFile(path.join(dir, app, 'infraspec.yaml'), text);
  }

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'norn-catalog-'));
    await writeApp('shop', spec('shop'));
  });
  afterEach(async () => {
    await catalog?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the apps dir and answers list, get and match from it', async () => {
    await writeApp('broken', 'name: [');
    catalog = newCatalog();
    const loaded = await catalog.load();
    expect(loaded.apps.map((a) => a.name)).to.deep.equal(['shop']);
    expect(loaded.errors.map((e) => e.file)).to.deep.equal([path.join(dir, 'broken', 'infraspec.yaml')]);
    expect(catalog.get('shop')?.dir).to.equal(path.join(dir, 'shop'));
    expect(catalog.get('nope')).to.equal(undefined);
    const result = catalog.match(push());
    expect(result.matched.map((a) => a.name)).to.deep.equal(['shop']);
    expect(result.invalidSpecs).to.have.length(1);
    expect(logs.some((l) => l.msg.startsWith('invalid app spec'))).to.equal(true);
  });

  it('matches from memory: removing the apps dir after loading changes nothing', async () => {
    catalog = newCatalog();
    await catalog.load();
    await rm(dir, { recursive: true, force: true });
    expect(catalog.match(push()).matched.map((a) => a.name)).to.deep.equal(['shop']);
  });

  it('picks up an edited spec without a restart and tells listeners', async () => {
    catalog = newCatalog();
    await catalog.load();
    const seen: string[] = [];
    catalog.onChange((specs) => seen.push(specs.apps.map((a) => a.spec.repo?.branch).join()));
    catalog.start();

    await writeApp('shop', spec('shop', 'release'));
    await eventually('the new branch is loaded', () => catalog.get('shop')?.spec.repo?.branch === 'release');
    expect(catalog.match(push()).matched).to.deep.equal([]);
    expect(catalog.match(push('refs/heads/release')).matched.map((a) => a.name)).to.deep.equal(['shop']);
    expect(seen).to.include('release');
  });

  it('picks up a new app and a spec that became invalid', async () => {
    catalog = newCatalog();
    await catalog.load();
    catalog.start();

    await writeApp('billing', spec('billing'));
    await eventually('billing is loaded', () => catalog.get('billing') !== undefined);
    await writeApp('shop', spec('shop').replace('8080', '99999'));
    await eventually('shop is reported invalid', () => catalog.list().errors.some((e) => e.path === 'processes.web.port'));
    expect(catalog.get('shop')).to.equal(undefined);
    expect(catalog.match(push()).matched.map((a) => a.name)).to.deep.equal(['billing']);
  });

  it('drops a removed app, and a new dir sorted first takes over a name only while it exists', async () => {
    await writeApp('zeta', spec('zeta'));
    catalog = newCatalog();
    await catalog.load();
    catalog.start();

    await writeApp('alpha', spec('zeta').replace('acme/shop', 'acme/alpha'));
    await eventually('alpha claims the name zeta', () => catalog.get('zeta')?.dir.endsWith('alpha') === true);
    expect(catalog.list().errors.map((e) => e.reason)).to.deep.equal([`app name "zeta" is already used by ${path.join(dir, 'alpha', 'infraspec.yaml')}`]);
    await rm(path.join(dir, 'alpha'), { recursive: true });
    await eventually('zeta is back from its own dir', () => catalog.get('zeta')?.dir.endsWith('zeta') === true);
    expect(catalog.list().errors).to.deep.equal([]);
    await rm(path.join(dir, 'shop'), { recursive: true });
    await eventually('shop is gone', () => catalog.get('shop') === undefined);
    expect(catalog.list().apps.map((a) => a.name)).to.deep.equal(['zeta']);
  });

  it('catches a change the watcher missed with its poll', async () => {
    catalog = newCatalog(dir, 100);
    await catalog.load();
    // Not started: no watcher. The poll alone, run by hand through start() after the edit, must notice it.
    await writeApp('shop', spec('shop', 'release'));
    await writeApp('blog', spec('blog'));
    catalog.start();
    await eventually('both changes are loaded', () => catalog.get('shop')?.spec.repo?.branch === 'release' && catalog.get('blog') !== undefined);
  });

  it('finds an apps dir created after start, by polling when it cannot watch', async () => {
    const later = path.join(dir, 'later');
    catalog = newCatalog(later, 100);
    await catalog.load();
    expect(catalog.list().errors[0]?.reason).to.match(/cannot read the apps dir/);
    catalog.start();
    expect(logs.some((l) => l.msg.includes('polling'))).to.equal(true);

    await mkdir(path.join(later, 'shop'), { recursive: true });
    await writeFile(path.join(later, 'shop', 'infraspec.yaml'), spec('shop'));
    await eventually('the new dir is loaded', () => catalog.get('shop') !== undefined);
    expect(catalog.list().errors).to.deep.equal([]);
  });

  it('stops following changes after stop()', async () => {
    catalog = newCatalog(dir, 100);
    await catalog.load();
    catalog.start();
    await catalog.stop();
    await writeApp('shop', spec('shop', 'release'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(catalog.get('shop')?.spec.repo?.branch).to.equal('main');
  });
});
