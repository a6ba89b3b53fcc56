import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { CommandError, InvalidInputError } from '../../../src/errors.js';
import { GitClient, isSafeRef } from '../../../src/integrations/git/git-client.js';
import { createTestRepo } from '../../support/git-repos.js';

describe('GitClient', () => {
  const token = 'ghp_supersecrettoken123';
  const git = new GitClient({ token, knownHostsPath: '/dev/null' });

  it('refuses refs and SHAs that are not what git would accept before running git', async () => {
    for (const ref of ['--upload-pack=evil', 'a..b', 'x:y', 'main.lock', 'a b', '']) expect(isSafeRef(ref), ref).to.equal(false);
    for (const ref of ['main', 'feature/x', 'refs/tags/v1.2.0']) expect(isSafeRef(ref), ref).to.equal(true);
    const err = await git.fetchCommit('file:///x.git', 'HEAD', '/tmp/never').catch((e) => e);
    expect(err).to.be.instanceOf(InvalidInputError);
  });

  it('resolves a branch on a real remote and fetches exactly that commit', async () => {
    const repo = createTestRepo();
    const sha = repo.commit({ 'a.txt': 'a' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    try {
      expect(await git.resolveRef(repo.url, 'main')).to.equal(sha);
      expect(await git.resolveRef(repo.url, 'nope')).to.equal(undefined);
      await git.fetchCommit(repo.url, sha, dir);
      expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).to.equal('a');
    } finally {
      repo.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never shows the token in an error, even when the remote fails', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    const err = await git.fetchCommit(`https://user:${token}@127.0.0.1:9/acme/shop.git`, 'a'.repeat(40), dir).catch((e) => e);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(err).to.be.instanceOf(CommandError);
    expect(String(err.message) + JSON.stringify(err.argv)).to.not.contain(token);
  });
});
