// Docker runtime: how long from a push to the new version serving, and how much of that the receiver adds. In one
// run, on the engine of test/support/start-services.sh (host networking, the test engine has no bridge):
//   ours: a signed push of a new commit to a running receiver (SQLite, Docker runtime, an app already deployed),
//         until the new version answers at the address GET /api/apps/:app/instances reports;
//   peer: the same work done by hand for another new commit of the same repo: `git clone --depth 1` and
//         `docker build` of it (same base layer cached, same fresh COPY), as a person would before `docker run`.
// overhead = ours - peer: webhook, queue, the container start, the health gate, ingress and the old one's drain.
// The gate's minimum healthy time is a deliberate wait, not overhead: it is set to 0 here and printed.
// Run: npx tsx bench/docker-deploy.ts
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import YAML from 'yaml';
import { startService } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { answerAt, removeAppContainers, webAppFiles, webAppSpec } from '../test/support/docker-runtime-app.js';
import { nonce } from '../test/support/docker-fixture.js';
import { createTestRepo } from '../test/support/git-repos.js';
import { dockerHost, requireDocker } from '../test/support/services.js';
import { githubPush, post } from '../test/support/signed-delivery.js';
import { fmtMs } from './percentiles.js';
import { settle } from './settle.js';

const SECRET = 'bench-webhook-secret';
const API_TOKEN = 'bench-api-token';
const MIN_HEALTHY_SECONDS = '0';

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main(): Promise<void> {
  await requireDocker();
  const app = `bench-${nonce()}`;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-deploy-'));
  const repo = createTestRepo(app);
  fs.mkdirSync(path.join(root, 'apps', app), { recursive: true });
  fs.writeFileSync(path.join(root, 'apps', app, 'infraspec.yaml'), YAML.stringify(webAppSpec(app, repo.url)));
  const config = loadConfig({
    NORN_PORT: '0',
    NORN_HOST: '127.0.0.1',
    NORN_APPS_DIR: path.join(root, 'apps'),
    NORN_DATA_DIR: path.join(root, 'data'),
    NORN_WEBHOOK_SECRET: SECRET,
    NORN_API_TOKEN: API_TOKEN,
    NORN_POLL_INTERVAL_MS: '50',
    NORN_RUNTIME: 'docker',
    DOCKER_HOST: dockerHost(),
    NORN_DOCKER_NETWORK: 'host',
    NORN_DOCKER_MIN_HEALTHY_SECONDS: MIN_HEALTHY_SECONDS,
    NORN_CLOUDFLARED_CONFIG: path.join(root, 'cloudflared.yml'),
    NORN_LOG_LEVEL: 'warn',
  });
  const svc = await startService(config, { log: pino({ level: 'silent' }) });
  const peerDir = path.join(root, 'peer');
  try {
    const deployed = async (version: string) => {
      const sha = repo.commit(webAppFiles(version));
      const t0 = performance.now();
      const res = await post(`${svc.url}/api/webhooks/github`, githubPush({ secret: SECRET, repoUrl: repo.url, sha }));
      if (res.status !== 202) throw new Error(`push answered ${res.status}`);
      await until(`${version} to serve`, async () => {
        const list = (await (await fetch(`${svc.url}/api/apps/${app}/instances`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).json()) as { address: string | null; commitSha: string | null }[];
        const mine = list.find((i) => i.commitSha === sha && i.address);
        return mine && (await answerAt(mine.address!)) === version ? true : undefined;
      });
      return performance.now() - t0;
    };
    process.stdout.write(`first deploy (not measured): ${fmtMs(await deployed('v1'))}\n`);
    await settle();

    // Peer: clone and build by hand a new commit of the same repo.
    repo.commit(webAppFiles('peer'));
    const p0 = performance.now();
    execFileSync('git', ['clone', '--quiet', '--depth', '1', '--branch', 'main', repo.url, peerDir]);
    execFileSync('docker', ['-H', dockerHost(), 'build', '--quiet', '-t', `${app}-peer:bench`, peerDir], { stdio: ['ignore', 'ignore', 'pipe'] });
    const peerMs = performance.now() - p0;
    await settle();

    const oursMs = await deployed('v2');
    const overhead = oursMs - peerMs;
    const load = os.loadavg()[0]!.toFixed(2);
    process.stdout.write(
      [
        `push -> new version serving (receiver, Docker runtime, min healthy ${MIN_HEALTHY_SECONDS}s): ${fmtMs(oursMs)}`,
        `clone + build by hand (peer, same run):                      ${fmtMs(peerMs)}`,
        `overhead the receiver adds:                                   ${fmtMs(overhead)} (${(oursMs / peerMs).toFixed(2)}x the peer)`,
        `load average: ${load}; no target (issue 16 asks for the figure)`,
        '',
      ].join('\n'),
    );
  } finally {
    await svc.close();
    await removeAppContainers(app);
    try {
      execFileSync('docker', ['-H', dockerHost(), 'image', 'rm', '-f', `${app}-peer:bench`], { stdio: 'ignore' });
    } catch {
      // best effort: the image is named after this run only
    }
    repo.remove();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`docker-deploy bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
