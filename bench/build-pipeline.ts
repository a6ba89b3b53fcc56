// Times clone + build + push + test of a small app with a warm build cache, through the real steps, against the
// engine and registry of test/support/start-services.sh. Reports the wall time and how much of it is the
// pipeline's own overhead: time spent outside Docker Engine calls and git. Run: npx tsx bench/build-pipeline.ts [runs]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { createDockerClient } from '../src/integrations/docker/create-docker-client.js';
import type { DockerEngine } from '../src/integrations/docker/docker-engine.js';
import { GitClient } from '../src/integrations/git/git-client.js';
import { buildStep } from '../src/pipeline/steps/build.js';
import { cloneStep } from '../src/pipeline/steps/clone.js';
import { testStep } from '../src/pipeline/steps/test.js';
import type { Step, StepOutputs } from '../src/pipeline/step.js';
import { appSpec } from '../test/support/docker-fixture.js';
import { dockerHost, registryUrl, requireDocker, requireRegistry } from '../test/support/services.js';

const runs = Number(process.argv[2] ?? 5);

/** Wraps every method of `target` so the time spent awaiting it is added to `spent.ms`. */
function timed<T extends object>(target: T, spent: { ms: number }): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const t0 = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args);
        } finally {
          spent.ms += performance.now() - t0;
        }
      };
    },
  });
}

async function makeRepo(root: string): Promise<{ url: string; sha: string }> {
  const work = path.join(root, 'work');
  const bare = path.join(root, 'app.git');
  await simpleGit().init(['--bare', bare]);
  await simpleGit().clone(bare, work);
  await writeFile(path.join(work, 'Dockerfile'), 'FROM norn-base:latest\nARG VERSION\nWORKDIR /app\nCOPY . .\nRUN echo "$VERSION" > version && wc -c main.sh\n');
  await writeFile(path.join(work, 'main.sh'), 'echo hello from the bench app\n');
  const git = simpleGit(work).addConfig('user.email', 'bench@norn.invalid').addConfig('user.name', 'bench');
  await git.add('.').commit('bench app').push('origin', 'HEAD:main');
  return { url: `file://${bare}`, sha: (await git.revparse(['HEAD'])).trim() };
}

async function main(): Promise<void> {
  await requireDocker();
  await requireRegistry();
  const root = await mkdtemp(path.join(tmpdir(), 'norn-bench-'));
  try {
    const { url, sha } = await makeRepo(root);
    const engineTime = { ms: 0 };
    const gitTime = { ms: 0 };
    const docker = timed<DockerEngine>(createDockerClient({ dockerHost: dockerHost() }), engineTime);
    const git = timed(new GitClient({ knownHostsPath: '/dev/null' }), gitTime);
    const steps: Step[] = [
      cloneStep({ git, workRoot: path.join(root, 'runs') }),
      buildStep({ registryUrl: registryUrl() }, { docker }),
      testStep({ testTimeoutMs: 60_000 }, { docker }),
    ];
    const spec = appSpec({ name: 'bench-app', build: { test: 'sh main.sh && cat version' } });

    const once = async (i: number) => {
      let outputs: StepOutputs = {};
      for (const step of steps) {
        const result = await step.run({
          sagaId: `bench-${i}`, app: spec.name, spec, specDir: root, ref: 'refs/heads/main', commitSha: sha,
          cloneUrl: url, signal: new AbortController().signal, outputs, report: () => undefined,
        });
        if (result.status === 'complete') outputs = { ...outputs, ...result.outputs };
      }
    };

    await once(0); // warms the build cache and the registry
    const rows: Array<{ wall: number; overhead: number }> = [];
    for (let i = 1; i <= runs; i++) {
      engineTime.ms = 0;
      gitTime.ms = 0;
      const t0 = performance.now();
      await once(i);
      const wall = performance.now() - t0;
      rows.push({ wall, overhead: wall - engineTime.ms - gitTime.ms });
      console.log(`run ${i}: wall ${wall.toFixed(0)} ms, engine ${engineTime.ms.toFixed(0)} ms, git ${gitTime.ms.toFixed(0)} ms, own ${(wall - engineTime.ms - gitTime.ms).toFixed(0)} ms`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const wall = median(rows.map((r) => r.wall));
    const overhead = median(rows.map((r) => r.overhead));
    console.log(`clone+build+push+test, warm cache, ${runs} runs: median wall ${wall.toFixed(0)} ms; ` +
      `outside engine and git ${overhead.toFixed(0)} ms (${((100 * overhead) / wall).toFixed(1)}%)`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
