// The lock around read-modify-write of the cloudflared config: exclusive in and across processes, broken when
// its holder is gone, and given up on (with who holds it) after the timeout.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileLock, LockTimeoutError } from '../../../src/files/file-lock.js';

describe('FileLock', () => {
  let dir: string;
  let lockPath: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-lock-'));
    lockPath = path.join(dir, 'config.yml.lock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A read-modify-write of a counter file with a pause in the middle, so unserialised callers lose updates. */
  const increment = async () => {
    const file = path.join(dir, 'counter');
    const value = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '0');
    await new Promise((r) => setTimeout(r, 5));
    fs.writeFileSync(file, String(value + 1));
  };
  const counter = () => Number(fs.readFileSync(path.join(dir, 'counter'), 'utf8'));

  it('serialises callers sharing one lock object, and removes the lock file afterwards', async () => {
    const lock = new FileLock({ timeoutMs: 5000, staleMs: 30_000 });
    await Promise.all(Array.from({ length: 20 }, () => lock.withLock(lockPath, increment)));
    expect(counter()).to.equal(20);
    expect(fs.existsSync(lockPath)).to.equal(false);
  });

  it('serialises separate lock objects through the lock file alone', async () => {
    const locks = Array.from({ length: 10 }, () => new FileLock({ timeoutMs: 5000, staleMs: 30_000, retryMs: 2 }));
    await Promise.all(locks.map((lock) => lock.withLock(lockPath, increment)));
    expect(counter()).to.equal(10);
  });

  it('releases the lock when the work throws', async () => {
    const lock = new FileLock({ timeoutMs: 1000, staleMs: 30_000 });
    await lock.withLock(lockPath, async () => Promise.reject(new Error('boom'))).catch(() => undefined);
    expect(fs.existsSync(lockPath)).to.equal(false);
    expect(await lock.withLock(lockPath, async () => 'next')).to.equal('next');
  });

  it('breaks a lock whose holder process has exited', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout.toString());
    const started = Date.now() - 60_000;
    fs.writeFileSync(lockPath, JSON.stringify({ host: os.hostname(), pid: deadPid, started, token: 'old', at: new Date().toISOString() }));
    const lock = new FileLock({ timeoutMs: 500, staleMs: 60_000 });
    expect(await lock.withLock(lockPath, async () => 'got it')).to.equal('got it');
  });

  it('breaks a lock older than staleMs even when its holder cannot be checked', async () => {
    fs.writeFileSync(lockPath, JSON.stringify({ host: 'another-host', pid: 1, started: 0, token: 'old', at: '2020-01-01T00:00:00Z' }));
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(lockPath, old, old);
    const lock = new FileLock({ timeoutMs: 500, staleMs: 60_000 });
    expect(await lock.withLock(lockPath, async () => 'got it')).to.equal('got it');
  });

  it('waits for a live holder and gives up after the timeout, naming it', async () => {
    fs.writeFileSync(lockPath, JSON.stringify({ host: 'another-host', pid: 4242, started: 0, token: 'theirs', at: '2030-01-01T00:00:00Z' }));
    const lock = new FileLock({ timeoutMs: 150, staleMs: 60_000, retryMs: 10 });
    let ran = false;
    const err = await lock.withLock(lockPath, async () => (ran = true)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LockTimeoutError);
    expect((err as Error).message).to.contain('pid 4242 on another-host');
    expect(ran).to.equal(false);
    expect(JSON.parse(fs.readFileSync(lockPath, 'utf8')).token).to.equal('theirs');
  });
});
