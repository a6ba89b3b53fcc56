// Clone: the clone step's time for a deploy that follows a one-line change, on a generated repository of 20,000
// files / 200 MB. Ours: the repository cache (src/integrations/git/repo-cache.ts), warmed by the previous deploy,
// fetches the new commit and updates the work tree the previous deploy gave back (its cleanup step, timed apart).
// Peer: a plain shallow fetch of the same commit into an empty dir (GitClient.fetchCommit, what the clone step did
// without the cache). Rounds alternate the two on fresh
// commits, so both see the same machine load; each starts after `sync`, in alternating order.
// The repository is generated once under /tmp (kept between runs, never in git) and served over file://, which
// runs git's full upload-pack transport. Run: npx tsx bench/clone.ts [--files 20000] [--file-kb 10] [--rounds 3]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GitClient } from '../src/integrations/git/git-client.js';
import { RepoCache } from '../src/integrations/git/repo-cache.js';
import { fmtMs, speedRatio, table } from './percentiles.js';
import { settle } from './settle.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    'file-kb': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
const fileCount = Number(args.files);
const fileBytes = Number(args['file-kb']) * 1024;
const rounds = Number(args.rounds);

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'b@example.com', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'b@example.com' };
const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, env: gitEnv, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();

/** The generated repository: reused when a previous run made one of the same shape. */
function generatedRepo(): { bare: string; work: string } {
  const root = path.join(os.tmpdir(), `norn-bench-clone-${fileCount}x${fileBytes}`);
  const bare = path.join(root, 'src.git');
  const work = path.join(root, 'work');
  if (fs.existsSync(path.join(root, 'ready'))) return { bare, work };
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  console.log(`generating ${fileCount} files of ${fileBytes / 1024} KB under ${root} (once; kept for later runs)...`);
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bare);
  git(root, 'init', '--quiet', '-b', 'main', work);
  for (let i = 0; i < fileCount; i++) {
    const dir = path.join(work, 'src', `m${i % 200}`);
    if (i < 200) fs.mkdirSync(dir, { recursive: true });
    // Random bytes do not compress: the packed repository is as large as its files (assets, vendored binaries).
    fs.writeFileSync(path.join(dir, `f${i}.bin`), randomBytes(fileBytes));
  }
  fs.writeFileSync(path.join(work, 'app.js'), 'console.log(0)\n');
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'generated');
  git(work, 'push', '--quiet', bare, 'HEAD:refs/heads/main');
  fs.writeFileSync(path.join(root, 'ready'), '');
  return { bare, work };
}

/** A one-line change, committed and pushed; returns its SHA. */
function oneLineChange(repo: { bare: string; work: string }, n: number): string {
  fs.writeFileSync(path.join(repo.work, 'app.js'), `console.log(${Date.now()}, ${n})\n`);
  git(repo.work, 'commit', '--quiet', '-am', `change ${n}`);
  git(repo.work, 'push', '--quiet', repo.bare, 'HEAD:refs/heads/main');
  return git(repo.work, 'rev-parse', 'HEAD');
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(full) : fs.statSync(full).size;
  }
  return total;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const repo = generatedRepo();
  const url = `file://${repo.bare}`;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-bench-clone-run-'));
  const client = new GitClient({ knownHostsPath: '/dev/null' });
  const cacheDir = path.join(scratch, 'cache');
  const cache = new RepoCache({ dir: cacheDir, maxBytes: 4096 * 1024 * 1024, lockTimeoutMs: 600_000 }, { git: client });
  const packBytes = dirBytes(path.join(repo.bare, 'objects'));
  console.log(`repository: ${fileCount} files, ${(fileCount * fileBytes / 1e6).toFixed(0)} MB of content, ${(packBytes / 1e6).toFixed(0)} MB packed; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  try {
    // The deploy before: fills the cache (a first deploy costs what the plain fetch costs, plus the cache's copy).
    const base = oneLineChange(repo, 0);
    const first = await timed(() => cache.checkout(url, base, path.join(scratch, 'first')));
    const firstBack = await timed(() => cache.giveBack(url, path.join(scratch, 'first')));
    console.log(`first deploy through an empty cache: ${fmtMs(first)} (giving the work tree back: ${fmtMs(firstBack)})`);

    const ours: number[] = [];
    const peer: number[] = [];
    const fetched: number[] = [];
    const givenBack: number[] = [];
    const written: number[] = [];
    // Each measurement starts with the disk's write-back done (`sync`), so neither pays for the other's 200 MB of
    // dirty pages; the order alternates between rounds as well.
    const quiet = async () => {
      execFileSync('sync');
      await settle();
    };
    for (let round = 1; round <= rounds; round++) {
      const sha = oneLineChange(repo, round);
      const runOurs = async () => {
        await quiet();
        const repoDir = path.join(cacheDir, fs.readdirSync(cacheDir).find((e) => !e.endsWith('.lock'))!);
        const objects = () => dirBytes(path.join(repoDir, 'objects'));
        const before = objects();
        let result: Awaited<ReturnType<RepoCache['checkout']>> | undefined;
        ours.push(await timed(async () => (result = await cache.checkout(url, sha, path.join(scratch, `ours-${round}`)))));
        fetched.push(objects() - before);
        written.push(result?.tree.kind === 'updated' ? result.tree.changed : fileCount + 1);
        // What the deploy's cleanup step does: the tree goes back to the cache for the next round.
        givenBack.push(await timed(() => cache.giveBack(url, path.join(scratch, `ours-${round}`))));
      };
      const runPeer = async () => {
        await quiet();
        peer.push(await timed(() => client.fetchCommit(url, sha, path.join(scratch, `peer-${round}`))));
        fs.rmSync(path.join(scratch, `peer-${round}`), { recursive: true, force: true });
      };
      if (round % 2 === 1) {
        await runOurs();
        await runPeer();
      } else {
        await runPeer();
        await runOurs();
      }
      console.log(
        `round ${round}: cache ${fmtMs(ours.at(-1)!)} (fetched ${(fetched.at(-1)! / 1024).toFixed(1)} KB, ${written.at(-1)} files written; giving the tree back ${fmtMs(givenBack.at(-1)!)}), plain shallow fetch ${fmtMs(peer.at(-1)!)}`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log('');
    console.log(
      table([
        ['clone step, deploy after a one-line change', 'median', 'min', 'max'],
        ['repository cache (fetch + update the kept work tree)', fmtMs(median(ours)), fmtMs(Math.min(...ours)), fmtMs(Math.max(...ours))],
        ['plain shallow fetch (depth 1, empty dir)', fmtMs(median(peer)), fmtMs(Math.min(...peer)), fmtMs(Math.max(...peer))],
      ]),
    );
    console.log(`\ncache vs plain shallow fetch: ${speedRatio(median(ours), median(peer))} (median of ${rounds} rounds, same run)`);
    console.log(`objects fetched per one-line change through the cache: median ${(median(fetched) / 1024).toFixed(1)} KB (plain fetch: the whole tree, ${(packBytes / 1e6).toFixed(0)} MB packed)`);
    console.log(`files written per one-line change through the cache: median ${median(written)} (plain fetch: ${fileCount + 1}); cleanup giving the tree back: median ${fmtMs(median(givenBack))}`);
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
