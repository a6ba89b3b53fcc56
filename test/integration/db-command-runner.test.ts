// The command runner pg_dump and pg_restore go through (shared with other integrations): exit codes, the stderr
// tail, timeouts and cancellation, with real child processes.
import { expect } from 'chai';
import { CommandError } from '../../src/errors.js';
import { commandFailed, createCommandRunner } from '../../src/integrations/process/run-command.js';

describe('createCommandRunner', () => {
  const env = { PATH: process.env.PATH };

  it('reports stdout, the exit code and the end of stderr', async () => {
    const run = createCommandRunner({ stderrTailBytes: 10 });
    const result = await run(['sh', '-c', 'echo out; printf "%s" "0123456789abcdef" >&2; exit 3'], { env });
    expect(result).to.deep.equal({ exitCode: 3, stdout: 'out\n', stderrTail: '6789abcdef', timedOut: false });
    const err = commandFailed(['sh', '-c', '...'], result);
    expect(err).to.be.instanceOf(CommandError).and.include({ exitCode: 3 });
  });

  it('passes only the given environment', async () => {
    const result = await createCommandRunner()(['sh', '-c', 'echo "${ONLY_THIS:-unset} ${HOME:-nohome}"'], { env: { ...env, ONLY_THIS: 'yes' } });
    expect(result.stdout).to.equal('yes nohome\n');
  });

  it('kills a child past its timeout', async () => {
    const started = Date.now();
    const result = await createCommandRunner()(['sleep', '10'], { env, timeoutMs: 200 });
    expect(result).to.include({ exitCode: null, timedOut: true });
    expect(result.stderrTail).to.contain('timed out after 200 ms');
    expect(Date.now() - started).to.be.below(3000);
  });

  it('kills the child and rejects with the reason when aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('step timed out');
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    const err = await createCommandRunner()(['sleep', '10'], { env, signal: controller.signal }).catch((e: unknown) => e);
    expect(err).to.equal(reason);
    expect(Date.now() - started).to.be.below(3000);
  });

  it('rejects with CommandError when the program does not exist', async () => {
    const err = await createCommandRunner()(['/nonexistent/pg_dump'], { env }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CommandError);
    expect((err as Error).message).to.contain('ENOENT');
  });
});
