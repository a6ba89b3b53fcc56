// `norn deploy` run in-process against the real service (HTTP API + /ws) and a real bare repository: the steps it
// prints, its exit codes, the API's messages, and resuming after the live stream is cut mid-deploy.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { deployCommandWith } from '../../src/cli/deploy-command.js';
import { STEP_NAMES } from '../../src/pipeline/step.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { specFor, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

const deploy = deployCommandWith({ retryDelaysMs: [20, 50, 100, 200] });
const ICONS: Record<string, string> = { 'step.start': '▶', 'step.complete': '✓', 'step.failed': '✗', 'step.skipped': '–' };

/** The step transitions the CLI printed, e.g. `✓ clone`. */
function stepLines(lines: readonly string[]): string[] {
  return lines.map((l) => /^([▶✓✗–]) (\w+)/.exec(l)).filter((m) => m && (STEP_NAMES as readonly string[]).includes(m[2]!)).map((m) => `${m![1]} ${m![2]}`);
}

/** The same, as the saga log recorded them: what the CLI must have shown, once each, in order. */
async function recordedSteps(svc: TestService, lines: readonly string[]): Promise<string[]> {
  const sagaId = /\(saga ([0-9a-f-]{36})\)/.exec(lines[0] ?? '')?.[1];
  expect(sagaId, `no saga id in ${lines[0]}`).to.be.a('string');
  const { events } = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; metadata: { step?: string } }[] };
  return events.filter((e) => ICONS[e.action]).map((e) => `${ICONS[e.action]} ${e.metadata.step}`);
}

/**
 * A TCP proxy in front of the service that cuts the client's live stream: before passing on the first chunk of
 * WebSocket frames that `dropBefore` matches (so the client never gets it), and right after passing on the first
 * that `dropAfter` matches.
 */
async function cuttingProxy(target: string, rules: { dropBefore: RegExp; dropAfter: RegExp }) {
  const { hostname, port } = new URL(target);
  const cuts: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const cut = (why: string) => {
      cuts.push(why);
      client.destroy();
      upstream.destroy();
    };
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (!cuts.includes('before') && rules.dropBefore.test(text)) return cut('before');
      client.write(chunk);
      if (!cuts.includes('after') && rules.dropAfter.test(text)) cut('after');
    });
    for (const s of [client, upstream]) s.on('error', () => {}).on('close', () => (client.destroy(), upstream.destroy()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cuts,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('norn deploy against the running service', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'hello' }, 'first');
    svc = await startTestService({ specs: { shop: specFor('shop', repo.url) } });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('deploys, printing each step as it runs and ends, and exits 0', async () => {
    const sha = repo.commit({ 'README.md': String(Date.now()) }, 'deploy me');
    const c = captureIo();
    const code = await deploy(['shop'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io);
    expect(code, c.err()).to.equal(0);
    const lines = c.lines();
    expect(lines[0]).to.match(new RegExp(`^queued shop refs/heads/main @ ${sha.slice(0, 12)} \\(saga [0-9a-f-]{36}\\)$`));
    const printed = stepLines(lines);
    expect(printed.slice(0, 2)).to.deep.equal(['▶ clone', '✓ clone']);
    expect(printed.slice(-2)).to.deep.equal(['▶ cleanup', '✓ cleanup']);
    expect(printed).to.deep.equal(await recordedSteps(svc, lines));
    expect(lines.find((l) => l.startsWith('✓ clone'))).to.match(/^✓ clone {5}\d+\.\ds$/);
    expect(lines.at(-2)).to.match(/^✓ deployed in \d+\.\ds$/);
    expect(lines.at(-1)).to.equal('image registry.example/app:1');
  });

  it('exits 1 with the failed step and its error when the commit cannot be cloned', async () => {
    const missing = 'f'.repeat(40);
    const c = captureIo();
    const code = await deploy(['shop', missing], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io);
    expect(code).to.equal(1);
    expect(stepLines(c.lines())).to.deep.equal(['▶ clone', '✗ clone', '▶ cleanup', '✓ cleanup']);
    expect(stepLines(c.lines())).to.deep.equal(await recordedSteps(svc, c.lines()));
    expect(c.lines().find((l) => l.startsWith('✗ failed'))).to.match(/^✗ failed at clone: could not fetch f{12} from file:\/\/\S+: git: fetch file:\/\/\S+ failed \(128\): .*not our ref/);
  });

  it("shows the API's message for an unknown app, and exits 1", async () => {
    const c = captureIo();
    expect(await deploy(['nope'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: app nope not found\n');
    expect(c.out()).to.equal('');
  });

  it('resumes a cut live stream with ?since=, with no step repeated or missing', async () => {
    repo.commit({ 'README.md': `again ${Date.now()}` }, 'deploy again');
    const reference = captureIo();
    expect(await deploy(['shop'], { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir }, reference.io)).to.equal(0);

    repo.commit({ 'README.md': `cut ${Date.now()}` }, 'deploy while cut');
    const proxy = await cuttingProxy(svc.url, {
      dropBefore: /"type":"deploy\.step"[^}]*"status":"complete"/, // the client never sees this frame on the first socket
      dropAfter: /"step":"cleanup","status":"running"/,
    });
    try {
      const c = captureIo();
      const code = await deploy(['shop'], { NORN_URL: proxy.url, NORN_DATA_DIR: svc.dataDir }, c.io);
      expect(code, c.err()).to.equal(0);
      expect(proxy.cuts, 'the proxy cut the stream twice').to.deep.equal(['before', 'after']);
      expect(c.err()).to.contain('resuming after event');
      expect(stepLines(c.lines())).to.deep.equal(stepLines(reference.lines()));
      expect(stepLines(c.lines())).to.deep.equal(await recordedSteps(svc, c.lines()));
      expect(c.lines().at(-2)).to.match(/^✓ deployed in/);
    } finally {
      proxy.close();
    }
  });
});
