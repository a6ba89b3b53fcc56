// What POST /api/apps/:app/deploy answers when the app's remote fails (issue 14 item 6, issue 15): a remote that
// never answers is cut off at NORN_GIT_TIMEOUT_SECONDS (504), one that refuses or does not resolve answers 502,
// a ref that does not exist 404; each with the reason and a hint, never `500 internal error`, and no git process
// outlives the request. The CLI prints the receiver's message and hint.
import { expect } from 'chai';
import { deployCommand } from '../../src/cli/deploy-command.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { processesMentioning, startSilentRemote, type SilentRemote } from '../support/silent-remote.js';
import { eventually, specFor, startTestService, TEST_SECRET, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';
import { closedPort } from '../support/closed-port.js';

// Set explicitly (the API may require a token by default): every request below carries it.
const API_TOKEN = 'upstream-errors-api-token';
const withToken = { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' };

describe('API answers when a git remote fails', function () {
  this.timeout(60_000);
  let svc: TestService;
  let silent: SilentRemote;
  let repo: TestRepo;
  let refusedPort: number;

  before(async () => {
    silent = await startSilentRemote();
    refusedPort = await closedPort();
    repo = createTestRepo();
    repo.commit({ 'a.txt': 'a' });
    svc = await startTestService({
      env: { NORN_GIT_TIMEOUT_SECONDS: '2', NORN_API_TOKEN: API_TOKEN },
      specs: {
        hung: specFor('hung', `http://127.0.0.1:${silent.port}/team/hung.git`),
        refused: specFor('refused', `http://127.0.0.1:${refusedPort}/team/refused.git`),
        nohost: specFor('nohost', 'https://git.nonexistent.invalid/team/nohost.git'),
        // The webhook secret in a URL: git's error text quotes the URL, and no answer or event may show it.
        leaky: specFor('leaky', `http://127.0.0.1:${refusedPort}/${TEST_SECRET}/leaky.git`),
        real: specFor('real', repo.url),
        // Refused by the allow-list: the app is not loaded, and a deploy says why instead of "not found".
        dangerous: specFor('dangerous', 'ext::sh'),
      },
    });
  });
  after(async () => {
    await svc?.close();
    await silent?.close();
    repo?.remove();
  });

  const deploy = async (app: string, ref = 'main') => {
    const res = await fetch(`${svc.url}/api/apps/${app}/deploy`, { method: 'POST', headers: withToken, body: JSON.stringify({ ref }) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('cuts off a remote that never answers: 504 with the reason and a hint, and no git left running', async () => {
    const started = Date.now();
    const { status, body } = await deploy('hung');
    expect(status).to.equal(504);
    expect(body.service).to.equal('git');
    expect(body.error).to.match(/^git: ls-remote http:\/\/127\.0\.0\.1:\d+\/team\/hung\.git gave no answer within 2s$/);
    expect(body.hint).to.match(/NORN_GIT_TIMEOUT_SECONDS/);
    expect(Date.now() - started).to.be.below(20_000);
    await eventually('git processes gone', async () => (processesMentioning(`127.0.0.1:${silent.port}`).length === 0 ? true : undefined), 10_000);
  });

  it('answers 502 with git\'s reason and a hint when the remote refuses the connection', async () => {
    const { status, body } = await deploy('refused');
    expect(status).to.equal(502);
    expect(body.error).to.match(/^git: ls-remote http:\/\/127\.0\.0\.1:\d+\/team\/refused\.git failed .*(connect|refused)/i);
    expect(body.hint).to.match(/cannot connect to 127\.0\.0\.1.*repo\.url/);
  });

  it('answers 502 with a hint for a host that does not resolve (the demo app\'s case)', async () => {
    const { status, body } = await deploy('nohost');
    expect(status).to.equal(502);
    expect(body.error).to.match(/^git: ls-remote https:\/\/git\.nonexistent\.invalid\/team\/nohost\.git failed/);
    expect(body.hint).to.match(/cannot be resolved|cannot connect/);
  });

  it('answers 404 naming the ref when the remote has no such ref, and 202 when it has', async () => {
    const missing = await deploy('real', 'nope');
    expect(missing.status).to.equal(404);
    expect(missing.body.field).to.equal('ref');
    expect((await deploy('real', 'main')).status).to.equal(202);
  });

  it('answers 409 naming repo.url for an app whose spec was refused, and 404 only for an app that is not there', async () => {
    const refused = await deploy('dangerous');
    expect(refused.status).to.equal(409);
    expect(refused.body.field).to.equal('repo.url');
    expect(refused.body.error).to.match(/^repo\.url: must not name a git transport helper .*; dangerous's spec is invalid and not loaded, so it cannot deploy \(fix dangerous\/infraspec\.yaml/);
    expect((await deploy('absent')).status).to.equal(404);
  });

  it('never shows a configured secret that git quotes back, in the answer or in the saga', async () => {
    const answer = await deploy('leaky');
    expect(answer.status).to.equal(502);
    expect(JSON.stringify(answer.body)).to.not.contain(TEST_SECRET);
    // A pinned commit skips ls-remote; the clone step then fails with the same text.
    const queued = await deploy('leaky', 'b'.repeat(40));
    expect(queued.status).to.equal(202);
    const sagaId = (queued.body.deploys as { sagaId: string }[])[0]!.sagaId;
    const saga = await eventually('the deploy to fail', async () => {
      const res = await fetch(`${svc.url}/api/sagas/${sagaId}`, { headers: withToken });
      const body = (await res.json()) as { saga: { status: string } };
      return body.saga.status === 'failed' ? body : undefined;
    });
    expect(JSON.stringify(saga)).to.contain('clone failed');
    expect(JSON.stringify(saga)).to.not.contain(TEST_SECRET);
  });

  it('norn deploy prints the receiver\'s message and hint, not "internal error"', async () => {
    const c = captureIo();
    const code = await deployCommand(['nohost'], { NORN_URL: svc.url, NORN_API_TOKEN: API_TOKEN }, c.io);
    expect(code).to.equal(1);
    expect(c.err()).to.match(/^norn: git: ls-remote https:\/\/git\.nonexistent\.invalid\/team\/nohost\.git failed/);
    expect(c.err()).to.match(/\nhint: /);
    expect(c.err()).to.not.contain('internal error');
  });
});

describe('shutdown while a request waits on git', function () {
  this.timeout(60_000);

  it('kills git at once and closes, instead of waiting for the git deadline', async () => {
    const silent = await startSilentRemote();
    const svc = await startTestService({ env: { NORN_GIT_TIMEOUT_SECONDS: '600', NORN_API_TOKEN: API_TOKEN }, specs: { hung: specFor('hung', `http://127.0.0.1:${silent.port}/team/hung.git`) } });
    try {
      const pending = fetch(`${svc.url}/api/apps/hung/deploy`, { method: 'POST', headers: withToken, body: '{}' }).then(
        (res) => res.status,
        () => 'connection closed',
      );
      await eventually('git to connect', async () => (silent.accepted() > 0 ? true : undefined));
      const started = Date.now();
      await svc.close();
      expect(Date.now() - started).to.be.below(15_000);
      expect(await pending).to.not.equal(500);
      expect(processesMentioning(`127.0.0.1:${silent.port}`)).to.deep.equal([]);
    } finally {
      await silent.close();
    }
  });
});
