import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { InvalidInputError, UpstreamError } from '../../../../src/errors.js';
import { GitClient, isSafeRef } from '../../../../src/integrations/git/git-client.js';
import { createTestRepo, type TestRepo } from '../../../support/git-repos.js';
import { startSshGitServer, type SshGitServer } from '../../../support/ssh-git-server.js';
import { startGitHttpServer, type GitHttpServer } from '../../../support/git-http-server.js';

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
    expect(err).to.be.instanceOf(UpstreamError);
    expect(String(err.message) + String(err.operation) + String(err.hint)).to.not.contain(token);
  });
});

describe('GitClient over SSH (a real sshd on loopback)', function () {
  this.timeout(30_000);
  let server: SshGitServer;
  let repo: TestRepo;
  before(async () => {
    server = await startSshGitServer();
    repo = createTestRepo('ssh');
  });
  after(async () => {
    await server?.close();
    repo?.remove();
  });

  it('fetches with the configured key when the host key is known', async () => {
    const sha = repo.commit({ 'b.txt': 'over ssh' });
    const git = new GitClient({ sshKeyPath: server.clientKey, knownHostsPath: server.knownHosts });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    try {
      await git.fetchCommit(server.url(repo.bareDir), sha, dir);
      expect(fs.readFileSync(path.join(dir, 'b.txt'), 'utf8')).to.equal('over ssh');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a server whose host key is not in known_hosts', async () => {
    const sha = repo.commit({ 'c.txt': 'c' });
    const emptyKnownHosts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'norn-kh-')), 'known_hosts');
    fs.writeFileSync(emptyKnownHosts, '');
    const git = new GitClient({ sshKeyPath: server.clientKey, knownHostsPath: emptyKnownHosts });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    const err = await git.fetchCommit(server.url(repo.bareDir), sha, dir).catch((e) => e);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err.message).to.match(/host key verification failed/i);
    expect(err.hint).to.match(/NORN_GIT_KNOWN_HOSTS/);
  });
});

describe('GitClient over smart HTTP with a token (git http-backend)', function () {
  this.timeout(30_000);
  const secretToken = 'gho_httptoken123456';
  let repo: TestRepo;
  let server: GitHttpServer;
  before(async () => {
    repo = createTestRepo('http');
    server = await startGitHttpServer(repo.root, secretToken);
  });
  after(async () => {
    await server?.close();
    repo?.remove();
  });

  it('sends the token as a header, never in the URL, and fetches the commit', async () => {
    const sha = repo.commit({ 'h.txt': 'over http' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    try {
      await new GitClient({ token: secretToken, knownHostsPath: '/dev/null' }).fetchCommit(`${server.url}/http.git`, sha, dir);
      expect(fs.readFileSync(path.join(dir, 'h.txt'), 'utf8')).to.equal('over http');
      expect(fs.readFileSync(path.join(dir, '.git', 'config'), 'utf8')).to.not.contain(secretToken);
      expect(server.authorizations).to.include(`Basic ${Buffer.from(`x-access-token:${secretToken}`).toString('base64')}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused without the token', async () => {
    const sha = repo.commit({ 'i.txt': 'i' });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-clone-'));
    const err = await new GitClient({ knownHostsPath: '/dev/null' }).fetchCommit(`${server.url}/http.git`, sha, dir).catch((e) => e);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(err).to.be.instanceOf(UpstreamError);
    expect(err.hint).to.match(/NORN_GIT_TOKEN/);
  });
});

describe('GitClient repository cache commands (through the same command layer)', () => {
  it('fetches a commit into a bare cache and writes its tree into a work dir', async () => {
    const repo = createTestRepo();
    const sha = repo.commit({ 'c.txt': 'cached' });
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cache-'));
    try {
      const git = new GitClient({ knownHostsPath: '/dev/null' });
      await git.fetchIntoCache(repo.url, sha, path.join(root, 'cache'));
      await git.checkoutFromCache(path.join(root, 'cache'), sha, path.join(root, 'work'));
      expect(fs.readFileSync(path.join(root, 'work', 'c.txt'), 'utf8')).to.equal('cached');
      const err = await git.fetchIntoCache('ext::sh -c id', sha, path.join(root, 'cache')).catch((e) => e);
      expect(err).to.be.instanceOf(InvalidInputError);
    } finally {
      repo.remove();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
