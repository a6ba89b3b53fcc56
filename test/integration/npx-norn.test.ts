// The README's way to run the CLI from a checkout: `npm ci` (whose prepare step links node_modules/.bin/norn),
// then `npx norn <command>`. Run in a scratch copy of the checkout's layout, so the test neither needs nor touches
// the node_modules of the checkout it runs in: the copy gets its own node_modules with only tsx linked in, and
// runs the real `npm run prepare` and the real `npx`.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestService, type TestService } from '../support/test-service.js';

const REPO = path.resolve('.');

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npx norn from a checkout, as the README says', function () {
  this.timeout(120_000);
  let checkout: string;
  let svc: TestService;

  before(async () => {
    checkout = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-checkout-'));
    fs.copyFileSync(path.join(REPO, 'package.json'), path.join(checkout, 'package.json'));
    // Copied, not linked: bin/ finds the checkout from its own location.
    fs.cpSync(path.join(REPO, 'bin'), path.join(checkout, 'bin'), { recursive: true });
    fs.symlinkSync(path.join(REPO, 'src'), path.join(checkout, 'src'));
    fs.mkdirSync(path.join(checkout, 'node_modules'));
    fs.symlinkSync(path.join(REPO, 'node_modules', 'tsx'), path.join(checkout, 'node_modules', 'tsx'));
    const prepare = await run('npm', ['run', 'prepare'], checkout);
    expect(prepare.code, prepare.stderr).to.equal(0);
    svc = await startTestService();
  });
  after(async () => {
    await svc?.close();
    fs.rmSync(checkout, { recursive: true, force: true });
  });

  it('npm ci\'s prepare step links node_modules/.bin/norn to bin/norn.js', () => {
    expect(fs.readlinkSync(path.join(checkout, 'node_modules', '.bin', 'norn'))).to.equal(path.join('..', '..', 'bin', 'norn.js'));
  });

  it('npx norn prints the commands, with no build in dist/ (it runs the source)', async () => {
    const help = await run('npx', ['norn', 'help'], checkout);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/^usage: norn <command> \[args\]\n/);
    expect(help.stdout).to.include('  doctor ');
  });

  it('npx norn doctor asks the running receiver, and its exit code follows the verdict', async () => {
    const doctor = await run('npx', ['norn', 'doctor'], checkout, { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir });
    expect(doctor.stdout, doctor.stderr).to.match(/^receiver http:\/\/127\.0\.0\.1:\d+\n\n {3}INTEGRATION +STATE +WHERE +DETAIL\n/);
    const verdict = doctor.stdout.trimEnd().split('\n').at(-1);
    expect(doctor.code).to.equal(verdict === '✓ everything configured answers' ? 0 : 1);
  });
});
