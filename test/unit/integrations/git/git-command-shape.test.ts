// How every git command is started (issue 14 items 5 and 8): only allowed transports (GIT_ALLOW_PROTOCOL and
// protocol.ext.allow=never), `--` before every URL, and the token never sent over plain http to another host.
import { expect } from 'chai';
import { InvalidInputError } from '../../../../src/errors.js';
import { GitClient } from '../../../../src/integrations/git/git-client.js';
import type { CommandRunner, RunOptions } from '../../../../src/integrations/process/run-command.js';
import { DANGEROUS_REMOTE_URLS } from '../../../support/hostile-remote-urls.js';

interface Run {
  argv: readonly string[];
  options: RunOptions;
}

/** A runner that records what it was asked to run and answers like an ls-remote that found `main`. */
function recordingRunner(): { runner: CommandRunner; runs: Run[] } {
  const runs: Run[] = [];
  const runner: CommandRunner = async (argv, options = {}) => {
    runs.push({ argv, options });
    return { exitCode: 0, stdout: `${'a'.repeat(40)}\trefs/heads/main\n`, stderrTail: '', timedOut: false };
  };
  return { runner, runs };
}

const token = 'ghp_shapetesttoken123';
const authHeaderOf = (run: Run) => run.options.env?.GIT_CONFIG_VALUE_0;

describe('git command shape', () => {
  it('runs git with the protocol allow-list, ext:: disabled, a deadline, and -- before the URL', async () => {
    const { runner, runs } = recordingRunner();
    const git = new GitClient({ knownHostsPath: '/dev/null', commandTimeoutMs: 7000 }, { runner });
    await git.resolveRef('https://git.example.com/team/shop.git', 'main');
    const [run] = runs;
    expect(run!.argv.slice(0, 5)).to.deep.equal(['git', '-c', 'protocol.ext.allow=never', '-c', 'protocol.fd.allow=never']);
    expect(run!.argv.slice(5, 9)).to.deep.equal(['-c', 'http.lowSpeedLimit=1', '-c', 'http.lowSpeedTime=37']);
    expect(run!.argv.slice(9)).to.deep.equal(['ls-remote', '--', 'https://git.example.com/team/shop.git', 'main']);
    expect(run!.options.env?.GIT_ALLOW_PROTOCOL).to.equal('https:http:ssh:file');
    expect(run!.options.timeoutMs).to.equal(7000);
  });

  it('puts -- before the URL of a fetch too, and every command gets the same environment rules', async () => {
    const { runner, runs } = recordingRunner();
    const git = new GitClient({ knownHostsPath: '/dev/null' }, { runner });
    await git.fetchCommit('https://git.example.com/team/shop.git', 'a'.repeat(40), `/tmp/norn-shape-${process.pid}`).catch(() => undefined);
    const fetch = runs.find((r) => r.argv.includes('fetch'))!;
    expect(fetch.argv.slice(fetch.argv.indexOf('--'))).to.deep.equal(['--', 'https://git.example.com/team/shop.git', 'a'.repeat(40)]);
    for (const run of runs) {
      expect(run.argv.slice(0, 3)).to.deep.equal(['git', '-c', 'protocol.ext.allow=never']);
      expect(run.options.env?.GIT_ALLOW_PROTOCOL).to.equal('https:http:ssh:file');
      expect(run.options.timeoutMs).to.be.a('number');
    }
  });

  it('refuses every dangerous URL before git runs', async () => {
    const { runner, runs } = recordingRunner();
    const git = new GitClient({ knownHostsPath: '/dev/null' }, { runner });
    for (const url of DANGEROUS_REMOTE_URLS) {
      const err = await git.resolveRef(url, 'main').catch((e: unknown) => e);
      expect(err, url).to.be.instanceOf(InvalidInputError);
      expect((err as InvalidInputError).field).to.equal('repo.url');
    }
    expect(runs).to.deep.equal([]);
  });

  it('sends the token to https, and to plain http only on loopback', async () => {
    const { runner, runs } = recordingRunner();
    const git = new GitClient({ token, knownHostsPath: '/dev/null' }, { runner });
    for (const url of ['https://git.example.com/a/b.git', 'http://127.0.0.1:8080/a/b.git', 'http://localhost/a/b.git', 'http://[::1]:81/a/b.git', 'http://git.example.com/a/b.git', 'http://10.0.0.5/a/b.git']) {
      await git.resolveRef(url, 'main');
    }
    expect(runs.map((r) => authHeaderOf(r) !== undefined)).to.deep.equal([true, true, true, true, false, false]);
    expect(git.credentialNote('http://git.example.com/a/b.git')).to.match(/NORN_GIT_TOKEN was not sent.*https:\/\/.*NORN_GIT_ALLOW_HTTP_CREDENTIALS=true/);
    expect(git.credentialNote('https://git.example.com/a/b.git')).to.equal(undefined);
  });

  it('sends the token over plain http when the operator allowed it', async () => {
    const { runner, runs } = recordingRunner();
    const git = new GitClient({ token, knownHostsPath: '/dev/null', allowHttpCredentials: true }, { runner });
    await git.resolveRef('http://git.example.com/a/b.git', 'main');
    expect(authHeaderOf(runs[0]!)).to.match(/^Authorization: Basic /);
    expect(git.credentialNote('http://git.example.com/a/b.git')).to.equal(undefined);
  });

  it('never puts the token in argv', async () => {
    const { runner, runs } = recordingRunner();
    await new GitClient({ token, knownHostsPath: '/dev/null' }, { runner }).resolveRef('https://git.example.com/a/b.git', 'main');
    expect(runs[0]!.argv.join(' ')).to.not.contain(token);
  });
});
