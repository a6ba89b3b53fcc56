import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { UpstreamError } from '../../../../src/errors.js';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import { RepoCache, cacheKey } from '../../../../src/integrations/git/repo-cache.js';
import { createTestRepo, type TestRepo } from '../../../support/git-repos.js';
import { startGitHttpServer } from '../../../support/git-http-server.js';
import { startSshGitServer } from '../../../support/ssh-git-server.js';

const MB = 1024 * 1024;

function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

function sizeOf(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? sizeOf(full) : fs.statSync(full).size;
  }
  return total;
}

describe('RepoCache (real git repositories)', function () {
  this.timeout(60_000);
  const git = new GitClient({ knownHostsPath: '/dev/null' });
  let repo: TestRepo;
  let cacheDir: string;
  let work: string;
  beforeEach(() => {
    repo = createTestRepo('shop');
    cacheDir = tempDir('norn-cache-');
    work = tempDir('norn-work-');
  });
  afterEach(() => {
    repo.remove();
    fs.rmSync(cacheDir, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('writes exactly the pushed commit, and the next deploy after a one-line change fetches only what changed', async () => {
    const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    const first = repo.commit({ 'big.bin': randomBytes(2 * MB).toString('base64'), 'app.js': 'console.log(1)\n' });
    expect((await cache.checkout(repo.url, first, path.join(work, 'one'))).cache).to.equal('created');
    const afterFirst = sizeOf(cacheDir);
    expect(afterFirst).to.be.greaterThan(2 * MB);

    const second = repo.commit({ 'app.js': 'console.log(2)\n' });
    expect((await cache.checkout(repo.url, second, path.join(work, 'two'))).cache).to.equal('reused');
    expect(fs.readFileSync(path.join(work, 'two', 'app.js'), 'utf8')).to.equal('console.log(2)\n');
    expect(fs.readFileSync(path.join(work, 'one', 'app.js'), 'utf8')).to.equal('console.log(1)\n');
    expect(fs.existsSync(path.join(work, 'two', 'big.bin'))).to.equal(true);
    // The second fetch brought one commit, one tree and one blob, not the 2.7 MB file again.
    expect(sizeOf(cacheDir) - afterFirst).to.be.lessThan(64 * 1024);
    // The work tree is the commit's files only: no .git to leak into a build context.
    expect(fs.existsSync(path.join(work, 'two', '.git'))).to.equal(false);
  });

  it('serves two deploys of different apps from one repository at once, each its own commit', async () => {
    const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    const a = repo.commit({ 'which.txt': 'a' });
    const b = repo.commit({ 'which.txt': 'b' });
    // Two caches stand for two receivers (or a restarted one) sharing the dir: only the lock file orders them.
    const other = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    await Promise.all([cache.checkout(repo.url, a, path.join(work, 'a')), other.checkout(repo.url, b, path.join(work, 'b'))]);
    expect(fs.readFileSync(path.join(work, 'a', 'which.txt'), 'utf8')).to.equal('a');
    expect(fs.readFileSync(path.join(work, 'b', 'which.txt'), 'utf8')).to.equal('b');
  });

  it('breaks a lock left by a receiver that died mid-clone', async () => {
    const sha = repo.commit({ 'x.txt': 'x' });
    const lock = path.join(cacheDir, `${cacheKey(repo.url)}.lock`);
    // pid 2^22+1 is above Linux's pid_max default: no live process holds it.
    fs.writeFileSync(lock, JSON.stringify({ host: os.hostname(), pid: 4_194_305, started: 0, token: 'dead', at: new Date().toISOString() }));
    const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    await cache.checkout(repo.url, sha, path.join(work, 'x'));
    expect(fs.readFileSync(path.join(work, 'x', 'x.txt'), 'utf8')).to.equal('x');
  });

  it('heals a corrupt cache by fetching again instead of failing the deploy', async () => {
    const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    const first = repo.commit({ 'data.txt': randomBytes(64 * 1024).toString('hex') });
    await cache.checkout(repo.url, first, path.join(work, 'one'));
    const packs = path.join(cacheDir, cacheKey(repo.url), 'objects', 'pack');
    for (const file of fs.readdirSync(packs)) {
      fs.chmodSync(path.join(packs, file), 0o644);
      fs.writeFileSync(path.join(packs, file), 'garbage');
    }
    const second = repo.commit({ 'more.txt': 'more' });
    expect((await cache.checkout(repo.url, second, path.join(work, 'two'))).cache).to.equal('rebuilt');
    expect(fs.readFileSync(path.join(work, 'two', 'more.txt'), 'utf8')).to.equal('more');
    expect(fs.readFileSync(path.join(work, 'two', 'data.txt'), 'utf8')).to.have.length(128 * 1024);
  });

  it('never fetches into a repository around a damaged cache (the data dir inside a checkout)', async () => {
    execFileSync('git', ['init', '--quiet', cacheDir]);
    const inner = path.join(cacheDir, 'git-cache');
    const cache = new RepoCache({ dir: inner, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    await cache.checkout(repo.url, repo.commit({ 'a.txt': 'a' }), path.join(work, 'one'));
    fs.rmSync(path.join(inner, cacheKey(repo.url), 'objects'), { recursive: true });
    expect((await cache.checkout(repo.url, repo.commit({ 'b.txt': 'b' }), path.join(work, 'two'))).cache).to.equal('rebuilt');
    expect(fs.readFileSync(path.join(work, 'two', 'b.txt'), 'utf8')).to.equal('b');
    expect(execFileSync('git', ['-C', cacheDir, 'for-each-ref'], { encoding: 'utf8' })).to.equal('');
  });

  it('fails with the remote\'s error, not a cache error, when the commit is not on the remote', async () => {
    const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
    repo.commit({ 'x.txt': 'x' });
    const err = await cache.checkout(repo.url, 'b'.repeat(40), path.join(work, 'missing')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UpstreamError);
    expect((err as UpstreamError).operation).to.match(/^fetch file:\/\//);
  });

  /**
   * A cache bounded at 1.5 MB that holds `repo` at a 1 MB commit, and a second repository with a 1 MB commit of its
   * own that does not fit beside it; `test` checks them out.
   */
  async function withTwoLargeRepos(test: (cache: RepoCache, other: TestRepo, blog: string) => Promise<void>): Promise<void> {
    const other = createTestRepo('blog');
    try {
      const cache = new RepoCache({ dir: cacheDir, maxBytes: 1.5 * MB, lockTimeoutMs: 30_000 }, { git });
      const shop = repo.commit({ 'big.bin': randomBytes(MB).toString('base64').slice(0, MB) });
      const blog = other.commit({ 'big.bin': randomBytes(MB).toString('base64').slice(0, MB) });
      await cache.checkout(repo.url, shop, path.join(work, 'shop'));
      await test(cache, other, blog);
    } finally {
      other.remove();
    }
  }

  it('keeps within its size bound by removing the least recently used repository first', async () => {
    await withTwoLargeRepos(async (cache, other, blog) => {
      await cache.checkout(other.url, blog, path.join(work, 'blog'));
      expect(fs.existsSync(path.join(cacheDir, cacheKey(other.url)))).to.equal(true);
      expect(fs.existsSync(path.join(cacheDir, cacheKey(repo.url)))).to.equal(false);
      expect(sizeOf(cacheDir)).to.be.lessThan(1.5 * MB);
    });
  });

  it('does not evict a repository another deploy holds locked', async () => {
    await withTwoLargeRepos(async (cache, other, blog) => {
      const lock = path.join(cacheDir, `${cacheKey(repo.url)}.lock`);
      fs.writeFileSync(lock, JSON.stringify({ host: os.hostname(), pid: process.ppid, started: 0, token: 'busy', at: new Date().toISOString() }));
      await cache.checkout(other.url, blog, path.join(work, 'blog'));
      expect(fs.existsSync(path.join(cacheDir, cacheKey(repo.url)))).to.equal(true);
      fs.rmSync(lock);
    });
  });
});

describe('RepoCache with credentials', function () {
  this.timeout(60_000);

  it('sends the token as a header over smart HTTP and keeps it out of the cached repository', async () => {
    const token = 'gho_cachetoken123456';
    const repo = createTestRepo('http');
    const server = await startGitHttpServer(repo.root, token);
    const cacheDir = tempDir('norn-cache-');
    const work = tempDir('norn-work-');
    try {
      const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git: new GitClient({ token, knownHostsPath: '/dev/null' }) });
      const sha = repo.commit({ 'h.txt': 'over http' });
      await cache.checkout(`${server.url}/http.git`, sha, work);
      expect(fs.readFileSync(path.join(work, 'h.txt'), 'utf8')).to.equal('over http');
      const [entry] = fs.readdirSync(cacheDir).filter((e) => !e.endsWith('.lock'));
      expect(fs.readFileSync(path.join(cacheDir, entry!, 'config'), 'utf8')).to.not.contain(token);
      expect(server.authorizations).to.include(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
    } finally {
      await server.close();
      repo.remove();
      fs.rmSync(cacheDir, { recursive: true, force: true });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('fetches over SSH with the configured key and known hosts', async () => {
    const server = await startSshGitServer();
    const repo = createTestRepo('ssh');
    const cacheDir = tempDir('norn-cache-');
    const work = tempDir('norn-work-');
    try {
      const git = new GitClient({ sshKeyPath: server.clientKey, knownHostsPath: server.knownHosts });
      const cache = new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000 }, { git });
      const sha = repo.commit({ 's.txt': 'over ssh' });
      await cache.checkout(server.url(repo.bareDir), sha, work);
      expect(fs.readFileSync(path.join(work, 's.txt'), 'utf8')).to.equal('over ssh');
    } finally {
      await server.close();
      repo.remove();
      fs.rmSync(cacheDir, { recursive: true, force: true });
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
