// Catalog: 10,000 apps in a temp apps dir. Times loading them, matching one push against them with
// AppCatalog.match (target: under 1 ms), and how long the running catalog takes to show one edited spec.
// Peer: a naive linear scan over the same loaded apps (normalize each app's repo URL, compare branch) matching
// the same push, as a ratio. Run: npx tsx bench/catalog.ts [--apps 10000] [--matches 10000] [--edits 5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import YAML from 'yaml';
import { AppCatalog } from '../src/apps/app-catalog.js';
import type { LoadedApp } from '../src/apps/load-app-specs.js';
import { repoIdentity } from '../src/apps/repo-identity.js';
import { createGithubAdapter } from '../src/webhooks/github.js';
import type { PushEvent } from '../src/webhooks/parsed-delivery.js';
import { githubPush } from '../test/support/signed-delivery.js';
import { fmtMs, mark, speedRatio, summarize } from './percentiles.js';

const { values: args } = parseArgs({
  options: {
    apps: { type: 'string', default: '10000' },
    matches: { type: 'string', default: '10000' },
    edits: { type: 'string', default: '5' },
  },
});
const appCount = Number(args.apps);
const matchCount = Number(args.matches);
const editCount = Number(args.edits);

/** A varied but valid spec: every 10th app filters on paths, every 7th deploys tags, every 50th shares a monorepo. */
function specOf(i: number, image = 'registry.example/app:1'): Record<string, unknown> {
  const repo: Record<string, unknown> = {
    url: i % 50 === 0 ? 'git@github.com:bench-org/monorepo.git' : `https://github.com/bench-org/app-${i}.git`,
    branch: i % 3 === 0 ? 'production' : 'main',
    autoDeploy: true,
  };
  if (i % 10 === 0) repo.paths = [`services/app-${i}/**`, 'shared/**'];
  if (i % 7 === 0) repo.tags = 'v*';
  return { name: `app-${i}`, image, repo, processes: { web: { port: 8080, health: { path: '/health' } } } };
}

function writeSpec(appsDir: string, i: number, image?: string): void {
  const dir = path.join(appsDir, `app-${i}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'infraspec.yaml'), YAML.stringify(specOf(i, image)));
}

function pushFor(repoUrl: string): PushEvent {
  const d = githubPush({ secret: 'bench-secret', repoUrl, sha: 'b'.repeat(40) });
  const parsed = createGithubAdapter().parse({ headers: d.headers, body: Buffer.from(d.body) });
  if (parsed.kind !== 'push') throw new Error(`fixture did not parse as a push: ${parsed.kind}`);
  return parsed;
}

/** The peer: what matching costs with no index — every app's URL normalized and compared, every time. */
function naiveMatch(apps: readonly LoadedApp[], push: PushEvent): LoadedApp[] {
  const identities = new Set(push.repository.urls.map(repoIdentity));
  const branch = push.ref.replace(/^refs\/heads\//, '');
  return apps.filter((a) => a.spec.repo !== undefined && a.spec.repo.autoDeploy && a.spec.repo.branch === branch && identities.has(repoIdentity(a.spec.repo.url)));
}

/** Times `fn` `n` times, or as many as fit in `budgetMs`. */
function timeEach(n: number, fn: () => void, budgetMs = 15_000): number[] {
  const out: number[] = [];
  const start = performance.now();
  for (let i = 0; i < n && performance.now() - start < budgetMs; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-catalog-'));
  const appsDir = path.join(root, 'apps');
  const log = pino({ level: 'silent' });
  const catalog = new AppCatalog({ appsDir }, { log });
  try {
    let t0 = performance.now();
    for (let i = 0; i < appCount; i++) writeSpec(appsDir, i);
    console.log(`catalog: ${appCount} apps written in ${((performance.now() - t0) / 1000).toFixed(1)} s; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs\n`);

    t0 = performance.now();
    const loaded = await catalog.load();
    const loadMs = performance.now() - t0;
    if (loaded.apps.length !== appCount) throw new Error(`loaded ${loaded.apps.length} apps of ${appCount}; first error: ${JSON.stringify(loaded.errors[0])}`);
    console.log(`load ${appCount} specs: ${(loadMs / 1000).toFixed(2)} s (${((1000 * loadMs) / appCount).toFixed(0)} µs per spec)`);

    let target = Math.floor(appCount / 2);
    while ([3, 7, 10, 50].some((k) => target % k === 0)) target++; // a plain app: main branch, no paths, no tags
    const push = pushFor(`https://github.com/bench-org/app-${target}`);
    const expect = (names: string[]) => {
      if (names.length !== 1 || names[0] !== `app-${target}`) throw new Error(`push matched [${names.join(', ')}], expected app-${target}`);
    };
    expect(catalog.match(push).matched.map((a) => a.name));
    expect(naiveMatch(loaded.apps, push).map((a) => a.name));
    timeEach(200, () => catalog.match(push), 2000); // warm-up
    timeEach(200, () => naiveMatch(loaded.apps, push), 2000);
    const ours = summarize(timeEach(matchCount, () => catalog.match(push)));
    const naive = summarize(timeEach(matchCount, () => naiveMatch(loaded.apps, push)));
    console.log(`match one push, ${ours.count} and ${naive.count} times (at most ${matchCount}, at most 15 s each):`);
    console.log(`  AppCatalog.match   p50 ${fmtMs(ours.p50)}  p99 ${fmtMs(ours.p99)}  max ${fmtMs(ours.max)}`);
    console.log(`  naive linear scan  p50 ${fmtMs(naive.p50)}  p99 ${fmtMs(naive.p99)}  max ${fmtMs(naive.max)}`);
    console.log(`  AppCatalog.match vs naive scan (p50): ${speedRatio(ours.p50, naive.p50)} (${(ours.p50 / naive.p50).toPrecision(2)} of its time)`);

    // The receiver stores these decisions in every delivery's ledger row, so their size is a per-delivery cost.
    const decisions = catalog.match(push).decisions;
    console.log(`  decisions per match (kept in the delivery's trace): ${decisions.length}, ${(JSON.stringify(decisions).length / 1024).toFixed(0)} KB as JSON`);

    catalog.start();
    const pickups: number[] = [];
    for (let e = 1; e <= editCount; e++) {
      const i = (e * 997) % appCount;
      const image = `registry.example/app:edit-${e}`;
      await new Promise((r) => setTimeout(r, 300)); // let the previous reload settle
      t0 = performance.now();
      writeSpec(appsDir, i, image);
      while (catalog.get(`app-${i}`)?.spec.image !== image) {
        if (performance.now() - t0 > 30_000) throw new Error(`edit of app-${i} not picked up after 30 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      pickups.push(performance.now() - t0);
    }
    const pick = summarize(pickups);
    console.log(`pick up one edited spec (${editCount} edits): median ${fmtMs(pick.p50)}, max ${fmtMs(pick.max)}`);
    t0 = performance.now();
    const gets = timeEach(1000, () => catalog.get(`app-${appCount - 1}`));
    console.log(`catalog.get (last app, 1000 times): p50 ${fmtMs(summarize(gets).p50)}; total ${fmtMs(performance.now() - t0)}`);
    console.log(`\ntarget: match a push among ${appCount} apps under 1 ms (p99): ${fmtMs(ours.p99)} -> ${mark(ours.p99 < 1)}`);
  } finally {
    await catalog.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

await main();
