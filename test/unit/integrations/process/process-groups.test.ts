// A child's whole process group dies with it (issue 14 item 6): on its timeout, on abort, and on the service's
// shutdown (ChildProcesses.killAll), what the child started is killed too instead of being re-parented to PID 1.
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { ChildProcesses } from '../../../../src/integrations/process/child-processes.js';
import { createCommandRunner } from '../../../../src/integrations/process/run-command.js';
import { processesMentioning } from '../../../support/silent-remote.js';
import { eventually } from '../../../support/test-service.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** A shell that starts a background grandchild with a unique command line, then waits. */
function parentWithGrandchild(): { argv: string[]; marker: string } {
  const marker = `${randomInt(100_000, 999_999)}.${randomInt(100, 999)}`;
  return { argv: ['sh', '-c', `sleep ${marker} & sleep ${marker}; wait`], marker };
}

const gone = (marker: string) => eventually(`no sleep ${marker} left`, async () => (processesMentioning(`sleep ${marker}`).length === 0 ? true : undefined), 10_000);

describe('process groups', function () {
  this.timeout(30_000);

  it('kills the grandchildren of a command that timed out', async () => {
    const { argv, marker } = parentWithGrandchild();
    const result = await createCommandRunner({ killGraceMs: 200 })(argv, { env, timeoutMs: 300 });
    expect(result.timedOut).to.equal(true);
    await gone(marker);
  });

  it('kills the grandchildren of an aborted command', async () => {
    const { argv, marker } = parentWithGrandchild();
    const controller = new AbortController();
    const run = createCommandRunner({ killGraceMs: 200 })(argv, { env, signal: controller.signal }).catch((e: unknown) => e);
    await eventually('the grandchild to start', async () => (processesMentioning(`sleep ${marker}`).length >= 2 ? true : undefined));
    controller.abort(new Error('cancelled'));
    expect(String(await run)).to.contain('cancelled');
    await gone(marker);
  });

  it('kills every tracked group at shutdown', async () => {
    const children = new ChildProcesses({ killGraceMs: 200 });
    const run = createCommandRunner({ children });
    const a = parentWithGrandchild();
    const b = parentWithGrandchild();
    const runs = [run(a.argv, { env }), run(b.argv, { env })];
    await eventually('both to start', async () => (children.count === 2 && processesMentioning(`sleep ${b.marker}`).length >= 2 ? true : undefined));
    await children.killAll();
    await Promise.all(runs);
    expect(children.count).to.equal(0);
    await gone(a.marker);
    await gone(b.marker);
  });
});
