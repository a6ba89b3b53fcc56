// Each forge's status client against the forge simulator: what reaches the forge, and how refusals are classified.
import { expect } from 'chai';
import net, { type AddressInfo } from 'node:net';
import { GiteaStatusClient } from '../../../../src/integrations/gitea/gitea-status-client.js';
import { GitHubStatusClient } from '../../../../src/integrations/github/github-status-client.js';
import { GitLabStatusClient } from '../../../../src/integrations/gitlab/gitlab-status-client.js';
import type { CommitStatus, StatusClient } from '../../../../src/integrations/forge-status/status-client.js';
import { ForgeSimulator, type SimForge } from '../../../support/forge-simulator.js';
import { memoryLogger } from '../../../support/memory-logger.js';

const TOKEN = 'sim-token-7f3a9c';
const SHA = 'a'.repeat(40);
const status = (over: Partial<CommitStatus> = {}): CommitStatus => ({ state: 'running', description: 'build 2/9', context: 'norn/deploy/shop', targetUrl: 'http://norn.test/sagas/1', ...over });

function clientFor(forge: SimForge, url: string, token: string, logged: string[] = []): StatusClient {
  const timeoutMs = 5000;
  if (forge === 'github') {
    const { log, lines } = memoryLogger();
    const client = new GitHubStatusClient({ token, apiUrl: url, timeoutMs, minWriteIntervalMs: 0 }, { log });
    // Octokit logs through pino; the test checks those lines too.
    return { maxDescriptionLength: client.maxDescriptionLength, send: async (...a) => { const r = await client.send(...a); logged.push(...lines); return r; } };
  }
  if (forge === 'gitea') return new GiteaStatusClient({ url, token, timeoutMs }, { fetch });
  return new GitLabStatusClient({ url, token, timeoutMs }, { fetch });
}

const SENT_STATE: Record<SimForge, string> = { github: 'pending', gitea: 'pending', gitlab: 'running' };

for (const forge of ['github', 'gitea', 'gitlab'] as const) {
  describe(`${forge} status client`, () => {
    let sim: ForgeSimulator;
    const signal = new AbortController().signal;
    const repo = forge === 'gitlab' ? 'group/sub/shop' : 'acme/shop';
    beforeEach(async () => {
      sim = await ForgeSimulator.start({ token: TOKEN, repos: [repo] });
    });
    afterEach(() => sim.close());

    it('sets the status on the commit with its context and link', async () => {
      const r = await clientFor(forge, sim.url, TOKEN).send({ repoFullName: repo, sha: SHA }, status(), signal);
      expect(r).to.deep.equal({ kind: 'delivered' });
      expect(sim.received).to.deep.equal([
        { forge, repo, sha: SHA, state: SENT_STATE[forge], description: 'build 2/9', context: 'norn/deploy/shop', targetUrl: 'http://norn.test/sagas/1' },
      ]);
      expect(sim.requests[0]!.credential).to.equal(TOKEN);
    });

    it('maps the final states to what the forge calls them', async () => {
      const client = clientFor(forge, sim.url, TOKEN);
      for (const state of ['success', 'failure', 'error'] as const) {
        expect(await client.send({ repoFullName: repo, sha: SHA }, status({ state, context: `c/${state}` }), signal)).to.deep.equal({ kind: 'delivered' });
      }
      const expected = forge === 'gitlab' ? ['success', 'failed', 'canceled'] : ['success', 'failure', 'error'];
      expect(sim.received.map((s) => s.state)).to.deep.equal(expected);
    });

    it('a refused token is permanent and the reason does not hold the token', async () => {
      const wrong = `${TOKEN}-wrong`;
      const logged: string[] = [];
      const r = await clientFor(forge, sim.url, wrong, logged).send({ repoFullName: repo, sha: SHA }, status(), signal);
      expect(r.kind).to.equal('permanent');
      expect((r as { reason: string }).reason).to.match(/^401/).and.not.contain(wrong);
      expect(logged.join('\n')).to.not.contain(wrong);
    });

    it('an unknown repository is permanent', async () => {
      const r = await clientFor(forge, sim.url, TOKEN).send({ repoFullName: forge === 'gitlab' ? 'group/other' : 'acme/other', sha: SHA }, status(), signal);
      expect(r).to.deep.include({ kind: 'permanent' });
      expect((r as { reason: string }).reason).to.match(/^404/);
    });

    it('5xx and a dropped connection are retried; rate limits pause the forge with the hint', async () => {
      const client = clientFor(forge, sim.url, TOKEN);
      const send = () => client.send({ repoFullName: repo, sha: SHA }, status(), signal);
      sim.failNext(1, { kind: 'server-error', status: 503 });
      expect(await send()).to.include({ kind: 'retry', scope: 'request' });
      sim.failNext(1, { kind: 'drop-connection' });
      expect(await send()).to.include({ kind: 'retry', scope: 'request' });
      sim.failNext(1, { kind: 'too-many-requests', retryAfterSeconds: 4 });
      expect(await send()).to.include({ kind: 'retry', scope: 'forge', retryAfterMs: 4000 });
      sim.failNext(1, { kind: 'rate-limit-403', resetInSeconds: 20 });
      const limited = await send();
      expect(limited).to.include({ kind: 'retry', scope: 'forge' });
      expect((limited as { retryAfterMs: number }).retryAfterMs).to.be.within(18_000, 21_500);
      expect(sim.received).to.have.length(0);
      expect(sim.requests).to.have.length(4); // no retries of its own: the outbox owns retrying
    });
  });
}

describe('forge-specific answers', () => {
  let sim: ForgeSimulator;
  const signal = new AbortController().signal;
  beforeEach(async () => {
    sim = await ForgeSimulator.start({ token: TOKEN });
  });
  afterEach(() => sim.close());

  it('GitHub rejects a description over 140 characters with 422, which is permanent', async () => {
    const r = await clientFor('github', sim.url, TOKEN).send({ repoFullName: 'acme/shop', sha: SHA }, status({ description: 'x'.repeat(141) }), signal);
    expect(r.kind).to.equal('permanent');
    expect((r as { reason: string }).reason).to.contain('422').and.contain('maximum is 140 characters');
  });

  it('GitLab answering that the context already has that state counts as delivered', async () => {
    const client = clientFor('gitlab', sim.url, TOKEN);
    await client.send({ repoFullName: 'g/shop', sha: SHA }, status({ description: 'build 2/9' }), signal);
    const again = await client.send({ repoFullName: 'g/shop', sha: SHA }, status({ description: 'test 3/9' }), signal);
    expect(again).to.deep.equal({ kind: 'delivered' });
    expect(sim.requests.map((r) => r.status)).to.deep.equal([201, 400]);
  });

  it('a request past its time limit is retried, not hung', async () => {
    // A forge that never answers: only the client's own time limit ends the request.
    const hanging = (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const client = new GiteaStatusClient({ url: sim.url, token: TOKEN, timeoutMs: 200 }, { fetch: hanging as typeof fetch });
    const started = Date.now();
    expect(await client.send({ repoFullName: 'acme/shop', sha: SHA }, status(), signal)).to.include({ kind: 'retry' });
    expect(Date.now() - started).to.be.below(2000);
  });

  it('a forge that does not answer at all is retried, and the reason says so in words, without the token', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    for (const forge of ['gitea', 'gitlab', 'github'] as const) {
      const url = `http://127.0.0.1:${port}`;
      const result = await clientFor(forge, url, TOKEN).send({ repoFullName: 'acme/shop', sha: SHA }, status(), signal);
      expect(result, forge).to.deep.equal({ kind: 'retry', scope: 'request', reason: `no answer from ${url} (connection refused)` });
    }
  });
});
