// Every git command has a deadline, and git dies with everything it started (issue 14 item 6): against a remote
// that accepts connections and never answers, the call ends in bounded time with a clear error, and no git,
// remote helper or ssh process is left behind.
import { expect } from 'chai';
import { UpstreamTimeoutError } from '../../../../src/errors.js';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import { ChildProcesses } from '../../../../src/integrations/process/child-processes.js';
import { createCommandRunner } from '../../../../src/integrations/process/run-command.js';
import { processesMentioning, startSilentRemote, type SilentRemote } from '../../../support/silent-remote.js';
import { eventually } from '../../../support/test-service.js';

describe('git deadlines', function () {
  this.timeout(60_000);
  let remote: SilentRemote;
  beforeEach(async () => {
    remote = await startSilentRemote();
  });
  afterEach(async () => {
    await remote?.close();
  });

  const noneLeft = (needle: string) =>
    eventually(`no process still talking to ${needle}`, async () => (processesMentioning(needle).length === 0 ? true : undefined), 10_000).catch(() => {
      throw new Error(`processes outlived the deadline: ${processesMentioning(needle).join(' | ')}`);
    });

  for (const scheme of ['http', 'ssh'] as const) {
    it(`ends an ls-remote over ${scheme} that never gets an answer, with its helpers`, async () => {
      const url = scheme === 'http' ? `http://127.0.0.1:${remote.port}/team/shop.git` : `ssh://git@127.0.0.1:${remote.port}/srv/shop.git`;
      const git = new GitClient({ knownHostsPath: '/dev/null', commandTimeoutMs: 1500 }, { runner: createCommandRunner({ killGraceMs: 500 }) });
      const started = Date.now();
      const err = await git.resolveRef(url, 'main').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UpstreamTimeoutError);
      const timeout = err as UpstreamTimeoutError;
      expect(timeout.message).to.match(/^git: ls-remote .* gave no answer within 2s$/);
      expect(timeout.hint).to.match(/127\.0\.0\.1 is reachable.*NORN_GIT_TIMEOUT_SECONDS/);
      expect(Date.now() - started).to.be.below(15_000);
      expect(remote.accepted()).to.be.at.least(1);
      await noneLeft(`127.0.0.1:${remote.port}`);
    });
  }

  it('kills a hanging git and its helpers when the service shuts down (ChildProcesses.killAll)', async () => {
    const children = new ChildProcesses({ killGraceMs: 500 });
    const git = new GitClient({ knownHostsPath: '/dev/null', commandTimeoutMs: 600_000 }, { runner: createCommandRunner({ children }) });
    const pending = git.resolveRef(`http://127.0.0.1:${remote.port}/team/shop.git`, 'main').catch((e: unknown) => e);
    await eventually('git connected', async () => (remote.accepted() > 0 ? true : undefined));
    expect(children.count).to.equal(1);
    await children.killAll();
    const err = await pending;
    expect(err).to.be.instanceOf(Error);
    expect(children.count).to.equal(0);
    await noneLeft(`127.0.0.1:${remote.port}`);
  });
});
