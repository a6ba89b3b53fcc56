// The attacks of issue 14 items 5-8, against receivers started as the README says (`norn serve`, its own process)
// and the real `norn` CLI, so they stay fixed:
//   5. repo.url values that make git run commands are refused by `norn validate` and by the receiver;
//   6. a remote that accepts and never answers: the API answers in bounded time, and no git process survives the
//      request or the receiver's shutdown;
//   7. a signed push carrying terminal escapes is refused, and nothing the CLI prints carries a raw control;
//   8. the git token is not sent over plain http to another host; configured secrets quoted back by git never
//      reach an API answer, the saga, the deploy record or the log.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import YAML from 'yaml';
import { startChildReceiver, type ChildReceiver } from '../support/child-receiver.js';
import { DANGEROUS_REMOTE_URLS } from '../support/hostile-remote-urls.js';
import { githubPush, hmacHex, post } from '../support/signed-delivery.js';
import { processesMentioning, startSilentRemote, type SilentRemote } from '../support/silent-remote.js';
import { eventually, specFor, TEST_SECRET } from '../support/test-service.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TERMINAL_ATTACK = '\u001b[2J\u001b]0;PWNED\u0007';
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const API_TOKEN = 'api-token-reliability-1';
const GIT_TOKEN = 'ghp_reliabilitygittoken42';

/** Runs the real `norn` command; resolves with its exit code and output. */
async function norn(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = promisify(execFile);
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'src/main.ts'), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function writeSpec(appsDir: string, name: string, spec: Record<string, unknown>): void {
  fs.mkdirSync(path.join(appsDir, name), { recursive: true });
  fs.writeFileSync(path.join(appsDir, name, 'infraspec.yaml'), YAML.stringify(spec));
}

/** The machine's first non-loopback IPv4 address: a host the token must not travel to in clear. */
function nonLoopbackAddress(): string {
  const address = Object.values(os.networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!address) throw new Error('this test needs a non-loopback IPv4 address on some interface (none found)');
  return address;
}

describe('git and terminal attacks (issue 14 items 5-8)', function () {
  this.timeout(180_000);
  let root: string;
  let appsDir: string;
  let receiver: ChildReceiver;
  let silent: SilentRemote;
  let recorder: http.Server;
  const seenAuthorizations: string[] = [];
  let recorderUrl: string;
  const auth = { authorization: `Bearer ${API_TOKEN}` };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-attacks-'));
    appsDir = path.join(root, 'apps');
    silent = await startSilentRemote();
    // A plain-http "forge" on a non-loopback address that records what credentials a clone sends.
    const host = nonLoopbackAddress();
    recorder = http.createServer((req, res) => {
      seenAuthorizations.push(req.headers.authorization ?? '');
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' });
      res.end('unauthorized');
    });
    await new Promise<void>((r) => recorder.listen(0, host, r));
    recorderUrl = `http://${host}:${(recorder.address() as AddressInfo).port}/team/plain.git`;
    writeSpec(appsDir, 'hung', specFor('hung', `http://127.0.0.1:${silent.port}/team/hung.git`));
    writeSpec(appsDir, 'plain', specFor('plain', recorderUrl));
    writeSpec(appsDir, 'leaky', specFor('leaky', `http://127.0.0.1:9/${API_TOKEN}/${GIT_TOKEN}/leaky.git`));
    writeSpec(appsDir, 'shop', specFor('shop', 'https://git.example/team/shop.git'));
    receiver = await startChildReceiver({
      NORN_APPS_DIR: appsDir,
      NORN_DATA_DIR: path.join(root, 'data'),
      NORN_WEBHOOK_SECRET: TEST_SECRET,
      NORN_API_TOKEN: API_TOKEN,
      NORN_GIT_TOKEN: GIT_TOKEN,
      NORN_GIT_TIMEOUT_SECONDS: '3',
      NORN_LOG_LEVEL: 'debug',
      NORN_POLL_INTERVAL_MS: '50',
    });
  });

  after(async () => {
    await receiver?.kill('SIGKILL');
    await silent?.close();
    await new Promise<void>((r) => (recorder ? recorder.close(() => r()) : r()));
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${receiver.url}${p}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('5: norn validate refuses every dangerous repo.url, naming the field, and runs nothing', async () => {
    const dir = path.join(root, 'dangerous');
    const marker = path.join(root, 'pwned');
    DANGEROUS_REMOTE_URLS.forEach((url, i) => writeSpec(dir, `app${i}`, specFor(`app${i}`, url.replaceAll('/tmp/pwned', marker))));
    const { code, stdout } = await norn(['validate', dir], {});
    expect(code).to.equal(1);
    expect(stdout).to.contain(`0 valid, ${DANGEROUS_REMOTE_URLS.length} error(s)`);
    expect(stdout.split('\n').filter((l) => l.includes('repo.url:'))).to.have.length(DANGEROUS_REMOTE_URLS.length);
    expect(stdout).to.not.match(RAW_CONTROLS);
    expect(fs.existsSync(marker)).to.equal(false);
  });

  it('6: a remote that never answers: 504 within the git deadline, and no git process survives', async () => {
    const started = Date.now();
    const { status, body } = await api('POST', '/api/apps/hung/deploy', { ref: 'main' });
    expect(status).to.equal(504);
    expect(body.error).to.match(/gave no answer within 3s/);
    expect(body.hint).to.match(/NORN_GIT_TIMEOUT_SECONDS/);
    expect(Date.now() - started).to.be.below(30_000);
    await eventually('git gone', async () => (processesMentioning(`127.0.0.1:${silent.port}`).length === 0 ? true : undefined), 10_000);
  });

  it('7: a signed push whose repository name carries terminal escapes is refused, and the CLI prints no raw control', async () => {
    const push = JSON.parse(githubPush({ secret: TEST_SECRET, repoUrl: 'https://git.example/team/shop.git', sha: 'c'.repeat(40) }).body);
    push.repository.full_name = `team/shop${TERMINAL_ATTACK}`;
    push.head_commit.message = `innocent${TERMINAL_ATTACK}`;
    const body = JSON.stringify(push);
    const headers = { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'attack-1', 'x-hub-signature-256': `sha256=${hmacHex(TEST_SECRET, body)}` };
    const answer = await post(`${receiver.url}/api/webhooks/github`, { headers, body });
    expect(answer.status).to.equal(400);
    expect(String(answer.body.error)).to.match(/repository\.full_name: must not contain control characters/);

    // Accepted push with escapes in free text: stored with them replaced, and printed without raw controls.
    push.repository.full_name = 'team/shop';
    const accepted = JSON.stringify(push);
    const ok = await post(`${receiver.url}/api/webhooks/github`, { headers: { ...headers, 'x-github-delivery': 'attack-2', 'x-hub-signature-256': `sha256=${hmacHex(TEST_SECRET, accepted)}` }, body: accepted });
    expect(ok.status).to.be.oneOf([200, 202]);

    const cliEnv = { NORN_URL: receiver.url, NORN_API_TOKEN: API_TOKEN };
    const list = await norn(['deliveries'], cliEnv);
    expect(list.code).to.equal(0);
    for (const id of (list.stdout.match(/[0-9a-f-]{36}/g) ?? []).slice(0, 5)) {
      const one = await norn(['delivery', id], cliEnv);
      expect(one.stdout + one.stderr, id).to.not.match(RAW_CONTROLS);
    }
    expect(list.stdout + list.stderr).to.not.match(RAW_CONTROLS);
  });

  it('8: the git token never travels over plain http to another host, and the saga says why', async () => {
    const { status, body } = await api('POST', '/api/apps/plain/deploy', { ref: 'd'.repeat(40) });
    expect(status).to.equal(202);
    const sagaId = (body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually('the clone to fail', async () => {
      const s = await api('GET', `/api/sagas/${sagaId}`);
      return (s.body.saga as { status: string }).status === 'failed' ? s.body : undefined;
    });
    expect(seenAuthorizations.length).to.be.at.least(1);
    expect(seenAuthorizations.filter((a) => a !== '')).to.deep.equal([]);
    expect(JSON.stringify(saga)).to.contain('NORN_GIT_TOKEN was not sent');
  });

  it('8: secrets that git quotes back never reach an answer, the saga, the deploy record or the log', async () => {
    const refused = await api('POST', '/api/apps/leaky/deploy', { ref: 'main' });
    expect(refused.status).to.equal(502);
    const queued = await api('POST', '/api/apps/leaky/deploy', { ref: 'e'.repeat(40) });
    const sagaId = (queued.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually('the clone to fail', async () => {
      const s = await api('GET', `/api/sagas/${sagaId}`);
      return (s.body.saga as { status: string }).status === 'failed' ? s.body : undefined;
    });
    const events = await api('GET', '/api/events?limit=1000');
    // The spec itself names the URL (it is the operator's text, kept as the deploy's clone URL); what must never
    // carry it is text that came back from git: answers, events, the deploy's error, the log.
    const everything = JSON.stringify([refused.body, saga, events.body]) + receiver.output.join('');
    expect(everything).to.contain('leaky');
    for (const secret of [API_TOKEN, GIT_TOKEN]) {
      const at = everything.indexOf(secret);
      expect(at, `${secret} in: ${everything.slice(Math.max(0, at - 300), at + 100)}`).to.equal(-1);
    }
  });

  it('6: shutting the receiver down kills the git it is waiting on, with everything git started', async () => {
    const other = await startChildReceiver({
      NORN_APPS_DIR: appsDir,
      NORN_DATA_DIR: path.join(root, 'data-2'),
      NORN_API_TOKEN: API_TOKEN,
      NORN_GIT_TIMEOUT_SECONDS: '600',
    });
    try {
      const pending = fetch(`${other.url}/api/apps/hung/deploy`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
      await eventually('git to be running', async () => (processesMentioning(`127.0.0.1:${silent.port}`).length > 0 ? true : undefined));
      await other.kill('SIGTERM');
      await pending;
    } finally {
      await other.kill('SIGKILL');
    }
    await eventually('no git left after the receiver exited', async () => (processesMentioning(`127.0.0.1:${silent.port}`).length === 0 ? true : undefined), 10_000);
  });
});
