// CloudflaredIngress on real files (copies of cloudflared's own configs in a temp dir) with the real command
// runner: what is written, when cloudflared is reloaded, and that concurrent writers never lose a rule.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CommandError } from '../../src/errors.js';
import { CloudflaredConfigError } from '../../src/integrations/cloudflared/cloudflared-config-error.js';
import { CloudflaredIngress } from '../../src/pipeline/ingress/cloudflared-ingress.js';
import { readIngress } from '../../src/integrations/cloudflared/ingress-document.js';
import { createCommandRunner } from '../../src/integrations/process/run-command.js';
import { readFixture } from '../support/fixtures-dir.js';
import { memoryLogger } from '../support/memory-logger.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const route = (app: string, n = 5) => [{ hostname: `${app}.example.com`, service: `http://10.0.0.${n}:8080` }];

describe('CloudflaredIngress on a config file', () => {
  let dir: string;
  let configPath: string;
  let reloads: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cloudflared-'));
    configPath = path.join(dir, 'config.yml');
    reloads = path.join(dir, 'reloads.log');
    fs.writeFileSync(configPath, readFixture('cloudflared/component-tests.config.yml'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ingress = (reloadCommand: string | null = `echo reload >> '${reloads}'`) =>
    new CloudflaredIngress({ configPath, reloadCommand: reloadCommand ?? undefined, reloadTimeoutMs: 10_000 }, { runner: createCommandRunner(), log: memoryLogger().log });
  const reloadCount = () => (fs.existsSync(reloads) ? fs.readFileSync(reloads, 'utf8').trim().split('\n').length : 0);
  const owners = () => readIngress(fs.readFileSync(configPath, 'utf8')).rules.map((r) => r.owner).filter(Boolean);
  const strayFiles = () => fs.readdirSync(dir).filter((f) => !['config.yml', 'reloads.log'].includes(f));

  it('writes the rule, reloads once, and on an identical second run neither writes nor reloads', async () => {
    const cloudflared = ingress();
    const first = await cloudflared.applyRoutes('shop', route('shop'));
    expect(first.added).to.deep.equal(['shop.example.com']);
    expect(first.reload).to.include({ status: 'reloaded', reason: 'changed' });
    expect(fs.readFileSync(configPath, 'utf8')).to.contain('- hostname: shop.example.com # norn:shop\n  service: http://10.0.0.5:8080\n- service: http_status:404\n');
    expect(reloadCount()).to.equal(1);

    const before = fs.statSync(configPath);
    const second = await cloudflared.applyRoutes('shop', route('shop'));
    expect(second.changed).to.equal(false);
    expect(second.reload).to.deep.equal({ status: 'not-needed' });
    const after = fs.statSync(configPath);
    expect([after.mtimeMs, after.ino]).to.deep.equal([before.mtimeMs, before.ino]);
    expect(reloadCount()).to.equal(1);
    expect(strayFiles()).to.deep.equal([]);
  });

  it('keeps the file mode and edits the target of a symlinked config', async () => {
    const real = path.join(dir, 'real.yml');
    fs.renameSync(configPath, real);
    fs.chmodSync(real, 0o600);
    fs.symlinkSync(real, configPath);
    await ingress().applyRoutes('shop', route('shop'));
    expect(fs.lstatSync(configPath).isSymbolicLink()).to.equal(true);
    expect(fs.statSync(real).mode & 0o777).to.equal(0o600);
    expect(fs.readFileSync(real, 'utf8')).to.contain('# norn:shop');
  });

  it('refuses an invalid file and leaves it byte for byte as it was', async () => {
    const broken = readFixture('cloudflared/component-tests.config.yml').toString('utf8').replace('- service: http_status:404\n', '');
    fs.writeFileSync(configPath, broken);
    const err = await ingress().applyRoutes('shop', route('shop')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CloudflaredConfigError);
    expect((err as CloudflaredConfigError).kind).to.equal('invalid');
    expect((err as Error).message).to.contain('the last ingress rule must match all URLs');
    expect(fs.readFileSync(configPath, 'utf8')).to.equal(broken);
    expect(reloadCount()).to.equal(0);
    expect(strayFiles()).to.deep.equal([]);
  });

  it('says where the missing file was expected', async () => {
    fs.rmSync(configPath);
    const err = await ingress().applyRoutes('shop', route('shop')).catch((e: unknown) => e);
    expect((err as CloudflaredConfigError).kind).to.equal('missing');
    expect((err as Error).message).to.contain(configPath);
  });

  it('reports a change without reload command as needing a restart', async () => {
    const change = await ingress(null).applyRoutes('shop', route('shop'));
    expect(change.reload).to.deep.equal({ status: 'not-configured' });
    expect(strayFiles()).to.deep.equal([]);
  });

  it('fails with the stderr of a failing reload, and retries that reload on the next unchanged run', async () => {
    const flag = path.join(dir, 'cloudflared-fixed');
    const command = `if [ -f '${flag}' ]; then echo reload >> '${reloads}'; else echo 'Failed to restart cloudflared.service: Unit not found.' >&2; exit 5; fi`;
    const err = await ingress(command).applyRoutes('shop', route('shop')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CommandError);
    expect((err as CommandError).exitCode).to.equal(5);
    expect((err as CommandError).stderrTail).to.contain('Unit not found');
    expect(owners()).to.deep.equal(['shop']);

    fs.writeFileSync(flag, '');
    const retry = await ingress(command).applyRoutes('shop', route('shop'));
    expect(retry.changed).to.equal(false);
    expect(retry.reload).to.include({ status: 'reloaded', reason: 'pending' });
    expect(reloadCount()).to.equal(1);
    const again = await ingress(command).applyRoutes('shop', route('shop'));
    expect(again.reload).to.deep.equal({ status: 'not-needed' });
  });

  it('keeps all ten rules when ten apps update at once through one instance', async () => {
    const cloudflared = ingress();
    const apps = Array.from({ length: 10 }, (_, i) => `app${i}`);
    await Promise.all(apps.map((app, i) => cloudflared.applyRoutes(app, route(app, i + 1))));
    expect(owners().sort()).to.deep.equal([...apps].sort());
    expect(readIngress(fs.readFileSync(configPath, 'utf8')).problems).to.deep.equal([]);
    expect(reloadCount()).to.equal(10);
  });

  it('keeps all ten rules when ten separate instances update at once (the lock file alone)', async () => {
    const apps = Array.from({ length: 10 }, (_, i) => `app${i}`);
    await Promise.all(apps.map((app, i) => ingress().applyRoutes(app, route(app, i + 1))));
    expect(owners().sort()).to.deep.equal([...apps].sort());
  });

  it('keeps every rule when two processes update the same file at once', async () => {
    const moduleUrl = pathToFileURL(path.join(repoRoot, 'src/pipeline/ingress/cloudflared-ingress.ts')).href;
    const runnerUrl = pathToFileURL(path.join(repoRoot, 'src/integrations/process/run-command.ts')).href;
    const child = (prefix: string) =>
      new Promise<void>((resolve, reject) => {
        const script = `
          import { CloudflaredIngress } from '${moduleUrl}';
          import { createCommandRunner } from '${runnerUrl}';
          const log = { info() {}, debug() {}, warn() {} };
          const ingress = new CloudflaredIngress({ configPath: ${JSON.stringify(configPath)}, reloadTimeoutMs: 5000 }, { runner: createCommandRunner(), log });
          await Promise.all(Array.from({ length: 8 }, (_, i) =>
            ingress.applyRoutes('${prefix}' + i, [{ hostname: '${prefix}' + i + '.example.com', service: 'http://10.0.0.1:' + (8000 + i) }])));
        `;
        const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        proc.stderr.on('data', (d) => (stderr += String(d)));
        proc.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`child ${prefix} exited ${code}: ${stderr}`))));
      });
    await Promise.all([child('left'), child('right')]);
    const expected = ['left', 'right'].flatMap((p) => Array.from({ length: 8 }, (_, i) => `${p}${i}`));
    expect(owners().sort()).to.deep.equal(expected.sort());
    expect(strayFiles()).to.deep.equal([]);
  });

  it('tears down only the named app, then lists what is left', async () => {
    const cloudflared = ingress();
    await cloudflared.applyRoutes('shop', [...route('shop'), { hostname: 'api.shop.example.com', service: 'http://10.0.0.5:8080' }]);
    await cloudflared.applyRoutes('blog', route('blog', 8));
    const removal = await cloudflared.removeApp('shop');
    expect(removal.removed).to.deep.equal(['shop.example.com', 'api.shop.example.com']);
    expect(removal.reload).to.include({ status: 'reloaded' });

    const listing = await cloudflared.listRules();
    expect(listing.problems).to.deep.equal([]);
    expect(listing.rules.map((r) => [r.hostname, r.service, r.owner])).to.deep.equal([
      ['named-tunnel-component-tests.example.com', 'hello_world', undefined],
      ['blog.example.com', 'http://10.0.0.8:8080', 'blog'],
      [undefined, 'http_status:404', undefined],
    ]);
    const nothing = await cloudflared.removeApp('shop');
    expect(nothing.changed).to.equal(false);
    expect(reloadCount()).to.equal(3);
  });
});
