// The repository cache's kept work tree, against real bare repositories and the real git client: a deploy after a
// one-line change gets a tree in which only that file was written, and whatever the deploy before did to its work
// dir, the next one gets exactly the commit's files. A tree that is out on lease, dead, evicted, unmovable (another
// file system) or broken costs a full checkout, never a wrong tree or a failed deploy.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import { RepoCache, cacheKey, type RepoCacheConfig } from '../../../../src/integrations/git/repo-cache.js';
import { createTestRepo, type TestRepo } from '../../../support/git-repos.js';

const MB = 1024 * 1024;

/** Every file, link and directory under `dir` (relative paths), with each file's content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(name);
      else out[name] = entry.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dir, name))}` : fs.readFileSync(path.join(dir, name), 'utf8');
    }
  };
  walk('');
  return out;
}

/** The files of commit `sha` as git has them, in the same shape as `snapshot`. */
function commitFiles(repo: TestRepo, sha: string): Record<string, string> {
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', repo.bareDir, ...args], { encoding: 'utf8' });
  const out: Record<string, string> = {};
  for (const name of git('ls-tree', '-r', '--name-only', '-z', sha).split('\0').filter(Boolean)) out[name] = git('show', `${sha}:${name}`);
  return out;
}

function exdev(): Promise<void> {
  return Promise.reject(Object.assign(new Error('EXDEV: cross-device link not permitted, rename'), { code: 'EXDEV' }));
}

describe('RepoCache work tree (real git repositories)', function () {
  this.timeout(60_000);
  const git = new GitClient({ knownHostsPath: '/dev/null' });
  let repo: TestRepo;
  let scratch: string;
  let cacheDir: string;
  let work: string;
  const newCache = (over: Partial<RepoCacheConfig> = {}, deps: Partial<ConstructorParameters<typeof RepoCache>[1]> = {}) =>
    new RepoCache({ dir: cacheDir, maxBytes: 100 * MB, lockTimeoutMs: 30_000, ...over }, { git, ...deps });
  const treeDir = () => path.join(cacheDir, cacheKey(repo.url), 'norn-tree');
  beforeEach(() => {
    repo = createTestRepo('shop');
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cache-tree-'));
    cacheDir = path.join(scratch, 'cache');
    work = path.join(scratch, 'work');
    fs.mkdirSync(work);
  });
  afterEach(() => {
    repo.remove();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('refreshes the kept index when the tree comes back, so the next update need not read files written with it', async () => {
    const cache = newCache();
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`f${i}.txt`] = `file ${i}\n`;
    const sha = repo.commit(files);
    await cache.checkout(repo.url, sha, path.join(work, 'one'));
    const newestFile = Math.max(...Object.keys(files).map((f) => fs.statSync(path.join(work, 'one', f)).mtimeMs));
    // A deploy takes longer than a second; without the refresh the index keeps the checkout's time, and git must
    // read every file written in that same second again ("racily clean") in the next deploy's clone step.
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await cache.giveBack(repo.url, path.join(work, 'one'))).to.equal(true);
    const index = fs.statSync(path.join(cacheDir, cacheKey(repo.url), 'norn-tree.index'));
    expect(Math.floor(index.mtimeMs / 1000)).to.be.above(Math.floor(newestFile / 1000));
  });

  it('writes only the changed file for the deploy after a one-line change, and the tree is exactly the commit', async () => {
    const cache = newCache();
    const files: Record<string, string> = { 'app.js': 'console.log(1)\n', '.gitignore': 'node_modules/\n' };
    for (let i = 0; i < 50; i++) files[`src/m${i % 5}/f${i}.txt`] = `file ${i}\n`;
    const first = repo.commit(files);
    expect((await cache.checkout(repo.url, first, path.join(work, 'one'))).tree).to.deep.equal({ kind: 'full' });
    const unchanged = fs.statSync(path.join(work, 'one', 'src', 'm3', 'f13.txt'));
    expect(await cache.giveBack(repo.url, path.join(work, 'one'))).to.equal(true);
    expect(fs.existsSync(path.join(work, 'one'))).to.equal(false);

    const second = repo.commit({ 'app.js': 'console.log(2)\n' });
    const result = await cache.checkout(repo.url, second, path.join(work, 'two'));

    expect(result).to.deep.equal({ cache: 'reused', tree: { kind: 'updated', changed: 1 } });
    expect(snapshot(path.join(work, 'two'))).to.deep.equal(commitFiles(repo, second));
    // Not rewritten: the same file (inode) with the same modification time as the first deploy's.
    const after = fs.statSync(path.join(work, 'two', 'src', 'm3', 'f13.txt'));
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).to.deep.equal({ ino: unchanged.ino, mtimeMs: unchanged.mtimeMs });
  });

  it('undoes what the deploy before did to its work dir: modified, deleted and added files, a .git, ignored files', async () => {
    const cache = newCache();
    const first = repo.commit({ 'app.js': 'console.log(1)\n', 'lib/util.js': 'export {}\n', 'keep.txt': 'keep\n', '.gitignore': 'dist/\n*.log\n' });
    const one = path.join(work, 'one');
    await cache.checkout(repo.url, first, one);
    // Same length as before, right after the checkout (within git's one-second racy window).
    fs.writeFileSync(path.join(one, 'app.js'), 'console.log(9)\n');
    fs.rmSync(path.join(one, 'lib', 'util.js'));
    fs.writeFileSync(path.join(one, 'stray.txt'), 'left by a build');
    fs.mkdirSync(path.join(one, 'dist'));
    fs.writeFileSync(path.join(one, 'dist', 'bundle.js'), 'ignored, but not part of the commit');
    fs.writeFileSync(path.join(one, 'debug.log'), 'ignored too');
    fs.mkdirSync(path.join(one, 'untracked', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(one, 'untracked', 'deep', 'x'), 'x');
    execFileSync('git', ['init', '--quiet', path.join(one, 'nested')]);
    fs.mkdirSync(path.join(one, '.git'));
    fs.writeFileSync(path.join(one, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    fs.writeFileSync(path.join(one, 'lib', '.git'), 'gitdir: /elsewhere\n');
    fs.symlinkSync('/etc', path.join(one, 'etc-link'));
    expect(await cache.giveBack(repo.url, one)).to.equal(true);

    const second = repo.commit({ 'keep.txt': 'kept\n' });
    const result = await cache.checkout(repo.url, second, path.join(work, 'two'));

    expect(result.tree.kind).to.equal('updated');
    expect(snapshot(path.join(work, 'two'))).to.deep.equal(commitFiles(repo, second));
    expect(fs.existsSync('/etc/passwd'), 'the symlink was removed, not followed').to.equal(true);

    // The same commit again after the same kind of damage: restored without a change of commit.
    fs.writeFileSync(path.join(work, 'two', 'keep.txt'), 'oops\n');
    fs.rmSync(path.join(work, 'two', 'app.js'));
    await cache.giveBack(repo.url, path.join(work, 'two'));
    await cache.checkout(repo.url, second, path.join(work, 'three'));
    expect(snapshot(path.join(work, 'three'))).to.deep.equal(commitFiles(repo, second));
  });

  it('gives a second deploy a full, correct tree while the first has the kept one, and keeps only one', async () => {
    const cache = newCache();
    const a = repo.commit({ 'which.txt': 'a', 'common.txt': 'c' });
    await cache.checkout(repo.url, a, path.join(work, 'a'));
    await cache.giveBack(repo.url, path.join(work, 'a'));
    const b = repo.commit({ 'which.txt': 'b' });
    const c = repo.commit({ 'which.txt': 'c', 'only-c.txt': 'c' });
    // Two caches stand for two receivers sharing the dir: only the lock and the lease order them.
    const [first, second] = await Promise.all([cache.checkout(repo.url, b, path.join(work, 'b')), newCache().checkout(repo.url, c, path.join(work, 'c'))]);

    expect([first.tree.kind, second.tree.kind].sort()).to.deep.equal(['leased', 'updated']);
    expect(snapshot(path.join(work, 'b'))).to.deep.equal(commitFiles(repo, b));
    expect(snapshot(path.join(work, 'c'))).to.deep.equal(commitFiles(repo, c));
    const [holder, other] = first.tree.kind === 'updated' ? ['b', 'c'] : ['c', 'b'];
    expect(await cache.giveBack(repo.url, path.join(work, other))).to.equal(false);
    expect(fs.existsSync(path.join(work, other)), 'the full tree is removed as before').to.equal(false);
    expect(await cache.giveBack(repo.url, path.join(work, holder))).to.equal(true);
    expect(fs.readdirSync(path.join(cacheDir, cacheKey(repo.url))).filter((e) => e.startsWith('norn-tree')).sort()).to.deep.equal(['norn-tree', 'norn-tree.bytes', 'norn-tree.index']);
  });

  it('drops a lease whose work dir is gone (its receiver died) and keeps the next tree instead', async () => {
    const cache = newCache();
    const a = repo.commit({ 'a.txt': 'a' });
    await cache.checkout(repo.url, a, path.join(work, 'dead'));
    // What startup does with the work dirs of a receiver that died mid-deploy.
    fs.rmSync(path.join(work, 'dead'), { recursive: true });

    const b = repo.commit({ 'b.txt': 'b' });
    expect((await cache.checkout(repo.url, b, path.join(work, 'next'))).tree).to.deep.equal({ kind: 'full' });
    expect(snapshot(path.join(work, 'next'))).to.deep.equal(commitFiles(repo, b));
    expect(await cache.giveBack(repo.url, path.join(work, 'next'))).to.equal(true);
    expect((await cache.checkout(repo.url, b, path.join(work, 'after'))).tree).to.deep.equal({ kind: 'updated', changed: 0 });
  });

  it('counts a kept tree with its repository and evicts them together', async () => {
    const blog = createTestRepo('blog');
    try {
      // Each repository packs to about 0.8 MB and checks out to 1 MB: both fit with one tree, not with two.
      const cache = newCache({ maxBytes: 3.2 * MB });
      const shop = repo.commit({ 'big.bin': randomBytes(MB).toString('base64').slice(0, MB) });
      await cache.checkout(repo.url, shop, path.join(work, 'shop'));
      await cache.giveBack(repo.url, path.join(work, 'shop'));
      const blogSha = blog.commit({ 'big.bin': randomBytes(MB).toString('base64').slice(0, MB) });
      await cache.checkout(blog.url, blogSha, path.join(work, 'blog'));
      expect(fs.existsSync(treeDir()), 'shop and its tree fit beside blog while blog\'s tree is out').to.equal(true);

      await cache.giveBack(blog.url, path.join(work, 'blog'));

      expect(fs.existsSync(path.join(cacheDir, cacheKey(repo.url))), 'the least recently used repository').to.equal(false);
      expect(fs.existsSync(path.join(cacheDir, cacheKey(blog.url), 'norn-tree', 'big.bin'))).to.equal(true);
      // Only repositories at the top: the tree never counts as a repository of its own.
      expect(fs.readdirSync(cacheDir)).to.deep.equal([cacheKey(blog.url)]);
    } finally {
      blog.remove();
    }
  });

  it('removes, rather than keeps, a tree whose repository was evicted while the tree was out', async () => {
    const cache = newCache();
    const a = repo.commit({ 'a.txt': 'a' });
    await cache.checkout(repo.url, a, path.join(work, 'a'));
    fs.rmSync(path.join(cacheDir, cacheKey(repo.url)), { recursive: true });

    expect(await cache.giveBack(repo.url, path.join(work, 'a'))).to.equal(false);
    expect(fs.existsSync(path.join(work, 'a'))).to.equal(false);
    expect(fs.existsSync(treeDir())).to.equal(false);
  });

  it('keeps no tree when the cache is on another file system (rename fails with EXDEV), and checks out as before', async () => {
    const cache = newCache({}, { rename: exdev });
    const a = repo.commit({ 'a.txt': 'a' });
    await cache.checkout(repo.url, a, path.join(work, 'a'));

    expect(await cache.giveBack(repo.url, path.join(work, 'a'))).to.equal(false);
    expect(fs.existsSync(path.join(work, 'a'))).to.equal(false);
    expect(fs.readdirSync(path.join(cacheDir, cacheKey(repo.url))).filter((e) => e.startsWith('norn-tree'))).to.deep.equal([]);
    const b = repo.commit({ 'b.txt': 'b' });
    expect((await cache.checkout(repo.url, b, path.join(work, 'b'))).tree).to.deep.equal({ kind: 'full' });
    expect(snapshot(path.join(work, 'b'))).to.deep.equal(commitFiles(repo, b));
  });

  it('falls back to a full checkout when the kept tree cannot be moved out (EXDEV) or its index is corrupt', async () => {
    const errors: unknown[] = [];
    const a = repo.commit({ 'a.txt': 'a' });
    await newCache().checkout(repo.url, a, path.join(work, 'a'));
    await newCache().giveBack(repo.url, path.join(work, 'a'));
    const b = repo.commit({ 'b.txt': 'b' });

    const moved = await newCache({}, { rename: exdev, onTreeError: (err) => errors.push(err) }).checkout(repo.url, b, path.join(work, 'b'));
    expect(moved.tree).to.deep.equal({ kind: 'full' });
    expect(snapshot(path.join(work, 'b'))).to.deep.equal(commitFiles(repo, b));
    expect(errors).to.have.length(1);

    await newCache().giveBack(repo.url, path.join(work, 'b'));
    fs.writeFileSync(path.join(cacheDir, cacheKey(repo.url), 'norn-tree.index'), 'garbage');
    const c = repo.commit({ 'c.txt': 'c' });
    const broken = await newCache({}, { onTreeError: (err) => errors.push(err) }).checkout(repo.url, c, path.join(work, 'c'));
    expect(broken.tree).to.deep.equal({ kind: 'full' });
    expect(snapshot(path.join(work, 'c'))).to.deep.equal(commitFiles(repo, c));
    expect(errors).to.have.length(2);
  });
});
