import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadAppSpecs } from '../../../src/apps/load-app-specs.js';

const good = (name: string, url = 'https://github.com/acme/shop.git') => `
name: ${name}
image: nginx:1.27
repo:
  url: ${url}
  autoDeploy: true
processes:
  web:
    port: 8080
`;

describe('loadAppSpecs', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'norn-apps-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeApp(app: string, text: string, file = 'infraspec.yaml'): Promise<string> {
    await mkdir(path.join(dir, app), { recursive: true });
    await writeFile(path.join(dir, app, file), text);
    return path.join(dir, app, file);
  }

  it('loads valid specs and reports invalid and unparsable ones without dropping them', async () => {
    await writeApp('shop', good('shop'));
    const badFile = await writeApp('billing', good('billing', 'git@github.com:acme/billing.git').replace('8080', '0'));
    const brokenFile = await writeApp('broken', 'name: broken\nprocesses:\n  web: [unclosed\n');

    const { apps, errors } = await loadAppSpecs(dir);

    expect(apps.map((a) => a.name)).to.deep.equal(['shop']);
    expect(apps[0]).to.include({ dir: path.join(dir, 'shop'), file: path.join(dir, 'shop', 'infraspec.yaml') });
    expect(apps[0]!.spec.repo?.branch).to.equal('main');

    const bad = errors.find((e) => e.file === badFile);
    expect(bad).to.include({ path: 'processes.web.port', line: 9, repo: 'github.com/acme/billing' });
    expect(bad!.reason).to.match(/1-65535/);

    const broken = errors.find((e) => e.file === brokenFile);
    expect(broken).to.include({ path: '' });
    expect(broken!.line).to.be.a('number');
    expect(broken!.reason).to.match(/^YAML line \d+: /);
  });

  it('reports duplicate YAML keys as a parse error', async () => {
    const file = await writeApp('shop', good('shop') + 'name: again\n');
    const { apps, errors } = await loadAppSpecs(dir);
    expect(apps).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file, path: '' });
    expect(errors[0]!.reason).to.match(/unique/i);
  });

  it('reports an empty file', async () => {
    const file = await writeApp('empty', '');
    const { errors } = await loadAppSpecs(dir);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file, path: '', reason: 'the file is empty' });
  });

  it('keeps the first app of a name and reports the later duplicate', async () => {
    await writeApp('a-shop', good('shop'));
    const later = await writeApp('b-shop', good('shop'));
    const { apps, errors } = await loadAppSpecs(dir);
    expect(apps.map((a) => a.dir)).to.deep.equal([path.join(dir, 'a-shop')]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file: later, path: 'name' });
    expect(errors[0]!.reason).to.include('already used by').and.include(path.join(dir, 'a-shop', 'infraspec.yaml'));
  });

  it('does not require the directory name to equal the app name', async () => {
    await writeApp('storefront', good('shop'));
    const { apps, errors } = await loadAppSpecs(dir);
    expect(errors).to.deep.equal([]);
    expect(apps.map((a) => a.name)).to.deep.equal(['shop']);
  });

  it('reports a spec saved as infraspec.yml and ignores dirs without a spec', async () => {
    const misnamed = await writeApp('shop', good('shop'), 'infraspec.yml');
    await mkdir(path.join(dir, 'notes'));
    await writeFile(path.join(dir, 'README.md'), 'apps live here');
    const { apps, errors } = await loadAppSpecs(dir);
    expect(apps).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file: misnamed, path: '' });
    expect(errors[0]!.reason).to.include('infraspec.yaml');
  });

  it('reports a missing apps dir instead of loading nothing silently', async () => {
    const missing = path.join(dir, 'nope');
    const { apps, errors } = await loadAppSpecs(missing);
    expect(apps).to.deep.equal([]);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include({ file: missing, path: '' });
  });

  it('loads the demo app in config/apps', async () => {
    const demoDir = path.resolve(import.meta.dirname, '../../../config/apps');
    const { apps, errors } = await loadAppSpecs(demoDir);
    expect(errors).to.deep.equal([]);
    expect(apps.map((a) => a.name)).to.include('hello');
  });
});
