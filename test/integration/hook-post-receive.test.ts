// hooks/post-receive installed in a real bare repository, driven by real `git push`es, delivering to the whole
// service: what the pusher sees, what the receiver records, and what gets deployed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { closedPort } from '../support/closed-port.js';

const HOOK = fileURLToPath(new URL('../../hooks/post-receive', import.meta.url));
const GIT_ENV = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.com' };

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs git without blocking the event loop: the receiver answering the hook lives in this process. */
function git(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: { ...process.env, ...GIT_ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: stdout.trim(), stderr }));
  });
}

async function gitOk(cwd: string, ...args: string[]): Promise<string> {
  const run = await git(cwd, args);
  if (run.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

interface DeliveryView {
  forge: string;
  deliveryId: string;
  verdict: string;
  reason: string;
  ref: string | null;
  commitSha: string | null;
  trace: { ref?: string; commitSha?: string; apps: { app: string; reason: string }[] };
}

describe('hooks/post-receive in a bare repository', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let work: string;
  let svc: TestService;

  async function commit(files: Record<string, string>, message = 'change'): Promise<string> {
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
      fs.writeFileSync(path.join(work, file), content);
    }
    await gitOk(work, 'add', '-A');
    await gitOk(work, 'commit', '--quiet', '--allow-empty', '-m', message);
    return gitOk(work, 'rev-parse', 'HEAD');
  }

  const push = (refspecs: string[], env: Record<string, string> = {}) => git(work, ['push', repo.bareDir, ...refspecs], env);

  async function deliveries(): Promise<DeliveryView[]> {
    const body = (await (await svc.api(`/api/deliveries`)).json()) as { deliveries: DeliveryView[] };
    return body.deliveries;
  }

  beforeEach(async () => {
    repo = createTestRepo('shop');
    work = path.join(repo.root, 'pusher');
    await gitOk(repo.root, 'init', '--quiet', '-b', 'main', work);
    const spec = specFor('shop', `file://${repo.bareDir}`, { repo: { url: `file://${repo.bareDir}`, branch: 'main', autoDeploy: true, paths: ['app/**'] } });
    svc = await startTestService({ specs: { shop: spec } });
    // Installed as the README says: one symlink plus two settings.
    fs.symlinkSync(HOOK, path.join(repo.bareDir, 'hooks', 'post-receive'));
    await gitOk(repo.bareDir, 'config', 'norn.url', svc.url);
    await gitOk(repo.bareDir, 'config', 'norn.secret', TEST_SECRET);
  });
  afterEach(async () => {
    await svc.close();
    repo.remove();
  });

  it('delivers a push to the tracked branch and the receiver deploys exactly that commit', async () => {
    await commit({ 'README.md': 'docs' }, 'first');
    const sha = await commit({ 'app/server.js': 'listen()' }, 'serve "quoted"\n\nwith a body');
    const run = await push(['main']);
    expect(run.code, run.stderr).to.equal(0);

    const [delivery] = await deliveries();
    expect(delivery).to.include({ forge: 'generic', verdict: 'queued', ref: 'refs/heads/main', commitSha: sha });
    // The pusher reads the receiver's verdict.
    expect(delivery!.reason).to.contain('queued shop').and.contain(sha.slice(0, 12));
    expect(run.stderr).to.contain(`remote: norn: ${delivery!.reason} (refs/heads/main)`);
    // The paths filter matched on the changed paths the hook listed.
    expect(delivery!.trace.apps[0]!.reason).to.contain(`commit ${sha.slice(0, 7)} touches app/server.js`);

    const { deploys } = (await (await svc.api(`/api/deploys?app=shop`)).json()) as { deploys: { sagaId: string; commitSha: string }[] };
    expect(deploys.map((d) => d.commitSha)).to.deep.equal([sha]);
    const saga = await eventually('the deploy to end', async () => {
      const body = (await (await svc.api(`/api/sagas/${deploys[0]!.sagaId}`)).json()) as { saga: { status: string; error: string | null }; events: { action: string; message: string }[] };
      return ['succeeded', 'failed'].includes(body.saga.status) ? body : undefined;
    });
    expect(saga.saga.status, saga.saga.error ?? '').to.equal('succeeded');
    expect(saga.events.find((e) => e.action === 'step.progress')?.message).to.contain(sha.slice(0, 12));
  });

  it('sends the changed paths, so a push outside repo.paths deploys nothing and says why', async () => {
    await commit({ 'docs/guide.md': 'words' }, 'docs only');
    const run = await push(['main']);
    expect(run.code).to.equal(0);
    const [delivery] = await deliveries();
    expect(delivery).to.include({ forge: 'generic', verdict: 'no-match' });
    expect(delivery!.reason).to.contain('no pushed commit touches paths [app/**]');
    expect(run.stderr).to.contain(`remote: norn: ${delivery!.reason} (refs/heads/main)`);
  });

  it('tells the pusher why a push to another branch deploys nothing', async () => {
    const sha = await commit({ 'app/x.js': 'x' }, 'feature work');
    const run = await push(['main:feature/x']);
    expect(run.code).to.equal(0);
    const [delivery] = await deliveries();
    expect(delivery).to.include({ forge: 'generic', verdict: 'no-match' });
    expect(delivery!.reason).to.contain('branch feature/x is not the tracked branch main');
    expect(run.stderr).to.contain(`remote: norn: ${delivery!.reason} (refs/heads/feature/x)`);
    expect(delivery!.trace).to.include({ ref: 'refs/heads/feature/x', commitSha: sha });
  });

  it('sends one delivery, with its own id, per updated ref', async () => {
    const sha = await commit({ 'app/a.js': 'a' });
    const run = await push(['main', 'main:next']);
    expect(run.code).to.equal(0);
    const list = await deliveries();
    expect(list.map((d) => d.trace.ref).sort()).to.deep.equal(['refs/heads/main', 'refs/heads/next']);
    expect(list.every((d) => d.forge === 'generic' && d.trace.commitSha === sha)).to.equal(true);
    expect(new Set(list.map((d) => d.deliveryId)).size).to.equal(2);
    expect(run.stderr.match(/^remote: norn: /gm)).to.have.length(2);
  });

  it('lets the push through and reports the failure when the receiver is down', async () => {
    await gitOk(repo.bareDir, 'config', 'norn.url', `http://127.0.0.1:${await closedPort()}`);
    const sha = await commit({ 'app/b.js': 'b' });
    const started = Date.now();
    const run = await push(['main', 'main:other']);
    expect(run.code, run.stderr).to.equal(0);
    expect(Date.now() - started).to.be.below(10_000);
    expect(run.stderr).to.match(/norn: delivery failed: .*refs\/heads\/main\); the push went through/);
    expect(run.stderr).to.contain('norn: receiver unreachable; 1 more ref(s) not sent');
    expect(await gitOk(repo.bareDir, 'rev-parse', 'refs/heads/main')).to.equal(sha);
  });

  it('reports a refused delivery (wrong secret) without failing the push', async () => {
    await gitOk(repo.bareDir, 'config', 'norn.secret', 'not-the-secret');
    await commit({ 'app/c.js': 'c' });
    const run = await push(['main']);
    expect(run.code).to.equal(0);
    expect(run.stderr).to.contain("norn: delivery failed: HTTP 401: X-Norn-Signature-256 does not match this webhook's secret");
  });

  it('signs with a long non-ASCII secret from the environment and never puts it on a command line', async () => {
    const secret = `ключ-${'s3cr3t'.repeat(20)}`; // longer than a SHA-256 block, so the HMAC hashes the key first
    await svc.close();
    svc = await startTestService({ specs: { shop: specFor('shop', `file://${repo.bareDir}`) }, env: { NORN_WEBHOOK_SECRET: secret } });
    await gitOk(repo.bareDir, 'config', 'norn.url', svc.url);
    await gitOk(repo.bareDir, 'config', '--unset', 'norn.secret');
    // Every command the hook runs goes through a wrapper that records its argv.
    const bin = path.join(repo.root, 'bin');
    const argvLog = path.join(repo.root, 'argv.log');
    fs.mkdirSync(bin);
    for (const tool of ['awk', 'basename', 'cat', 'curl', 'cut', 'dirname', 'git', 'head', 'id', 'mktemp', 'od', 'openssl', 'rm', 'sed', 'sha256sum', 'shasum', 'tr', 'wc']) {
      const real = process.env.PATH!.split(':').map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
      if (real) fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\nprintf '%s\\n' "$*" >>'${argvLog}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
    }
    const sha = await commit({ 'app/d.js': 'd' });
    const run = await push(['main'], { PATH: `${bin}:${process.env.PATH}`, NORN_WEBHOOK_SECRET: secret });
    expect(run.code).to.equal(0);
    const [delivery] = await deliveries();
    expect(delivery).to.include({ forge: 'generic', verdict: 'queued', commitSha: sha });
    expect(run.stderr).to.contain(`remote: norn: ${delivery!.reason}`);
    const argv = fs.readFileSync(argvLog, 'utf8');
    expect(argv).to.contain('X-Norn-Signature-256'); // the wrappers did see the hook's commands
    expect(argv).not.to.contain('s3cr3t');
  });
});
