// Build skip: push -> live for a push that changes only docs (outside the build context) against a push that
// changes code, same app, same run. The whole service runs in-process with the real engine and registry of
// test/support/start-services.sh; Nomad is the simulator (healthy after its scaled MinHealthyTime), as the end-to-end
// tests do. A `git push` to a bare repository with hooks/post-receive delivers each push; "live" is the saga
// ending `succeeded`. Rounds alternate code and docs pushes. Run: npx tsx bench/build-skip.ts [--rounds 3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTestRepo } from '../test/support/git-repos.js';
import { NomadSimulator } from '../test/support/nomad-simulator.js';
import { dockerHost, registryUrl, requireDocker, requireRegistry } from '../test/support/services.js';
import { TEST_SECRET, startTestService } from '../test/support/test-service.js';
import { fmtMs, speedRatio, table } from './percentiles.js';
import { settle } from './settle.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(args.rounds);
const hook = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../hooks/post-receive');

interface Saga {
  saga: { status: string; error: string | null };
  events: { action: string; message: string; metadata: { step?: string; durationMs?: number } }[];
}

async function main(): Promise<void> {
  await requireDocker();
  await requireRegistry();
  const app = `bench-skip-${Date.now().toString(36)}`;
  const repo = createTestRepo(app);
  const nomad = await NomadSimulator.start({ timeFactor: 0.001 });
  const svc = await startTestService({
    nomad,
    env: { DOCKER_HOST: dockerHost(), NORN_REGISTRY_URL: registryUrl(), NORN_LOG_LEVEL: 'warn' },
    specs: { [app]: { name: app, repo: { url: repo.url, branch: 'main', autoDeploy: true }, build: {}, processes: { web: { port: 18080, health: { path: '/health' } } } } },
  });
  fs.symlinkSync(hook, path.join(repo.bareDir, 'hooks', 'post-receive'));
  repo.gitConfig('norn.url', svc.url);
  repo.gitConfig('norn.secret', TEST_SECRET);

  const live = async (sha: string): Promise<{ ms: number; build: string; buildMs: number }> => {
    for (;;) {
      const list = (await (await svc.api(`/api/deploys?app=${app}`)).json()) as { deploys: { sagaId: string; commitSha: string }[] };
      const sagaId = list.deploys.find((d) => d.commitSha === sha)?.sagaId;
      if (sagaId) {
        const s = (await (await svc.api(`/api/sagas/${sagaId}`)).json()) as Saga;
        if (s.saga.status === 'succeeded') {
          const build = s.events.find((e) => e.action === 'step.complete' && e.metadata.step === 'build');
          return { ms: 0, build: build?.message ?? '?', buildMs: build?.metadata.durationMs ?? 0 };
        }
        if (!['queued', 'running'].includes(s.saga.status)) throw new Error(`deploy of ${sha} ended ${s.saga.status}: ${s.saga.error}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const push = async (files: Record<string, string>, message: string) => {
    await settle();
    const t0 = performance.now();
    const { sha } = await repo.commitAndPush(files, message);
    const result = await live(sha);
    return { ...result, ms: performance.now() - t0 };
  };

  try {
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    // A small service: dependencies installed in one layer, the code copied after; the build does real work.
    await push(
      {
        Dockerfile: 'FROM norn-base:latest\nWORKDIR /app\nCOPY . .\nRUN dd if=/dev/urandom of=/app/assets.bin bs=1M count=8 2>/dev/null && sha256sum /app/*.sh > /app/manifest\n',
        '.dockerignore': 'docs\ninfraspec.yaml\n',
        'main.sh': `echo v0 ${app}\n`,
        'docs/guide.md': 'guide v0\n',
      },
      'first release',
    );
    const code: { ms: number; buildMs: number; build: string }[] = [];
    const docs: { ms: number; buildMs: number; build: string }[] = [];
    for (let round = 1; round <= rounds; round++) {
      // Unique per run, so Docker's layer cache cannot serve a code push from an earlier run's identical one.
      code.push(await push({ 'main.sh': `echo v${round} ${app}\n` }, `code ${round}`));
      docs.push(await push({ 'docs/guide.md': `guide v${round}\n` }, `docs ${round}`));
      console.log(`round ${round}: code push ${fmtMs(code.at(-1)!.ms)} (build ${fmtMs(code.at(-1)!.buildMs)}: ${code.at(-1)!.build}); docs push ${fmtMs(docs.at(-1)!.ms)} (build ${fmtMs(docs.at(-1)!.buildMs)}: ${docs.at(-1)!.build})`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log('');
    console.log(
      table([
        ['push -> live (median)', 'total', 'build step'],
        ['docs-only push (build skipped)', fmtMs(median(docs.map((d) => d.ms))), fmtMs(median(docs.map((d) => d.buildMs)))],
        ['code push (built)', fmtMs(median(code.map((d) => d.ms))), fmtMs(median(code.map((d) => d.buildMs)))],
      ]),
    );
    console.log(`\ndocs-only vs code push, push -> live: ${speedRatio(median(docs.map((d) => d.ms)), median(code.map((d) => d.ms)))} (median of ${rounds}, same run)`);
    const allSkipped = docs.every((d) => d.build.startsWith('build skipped'));
    console.log(`every docs-only push skipped its build: ${allSkipped ? 'PASS' : 'MISS'}`);
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    await svc.close();
    await nomad.close();
    repo.remove();
  }
}

await main();
