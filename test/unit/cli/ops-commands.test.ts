// Command lines the operator commands refuse before talking to the receiver (exit 2 with the usage).
import { expect } from 'chai';
import { ingressCommand, teardownCommandWith } from '../../../src/cli/ingress-commands.js';
import { planCommand } from '../../../src/cli/plan-command.js';
import { secretsCommand } from '../../../src/cli/secrets-command.js';
import { cronCommandWith } from '../../../src/cli/cron-commands.js';
import { invokeCommandWith, runsCommand } from '../../../src/cli/run-commands.js';
import { snapshotsCommandWith } from '../../../src/cli/snapshots-command.js';
import { captureIo } from '../../fakes/capture-io.js';

// Nothing listens here: a command that reached the network would exit 1, not 2.
const env = { NORN_URL: 'http://127.0.0.1:9' };
const nobody = { isInteractive: false, ask: async () => '' };

describe('operator command lines', () => {
  const cases: [string, (a: string[], e: typeof env, io: ReturnType<typeof captureIo>['io']) => Promise<number>, string[], RegExp][] = [
    ['snapshots without an app', snapshotsCommandWith({ confirmer: nobody }), [], /^usage: norn snapshots <app>/],
    ['snapshots with an unknown action', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'drop', 'x'], /the actions are restore <ts>, take, export <ts> and import <file>/],
    ['restore without a timestamp', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'restore'], /the actions are restore <ts>, take, export <ts> and import <file>/],
    ['restore with a malformed timestamp', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'restore', '2024-05-01'], /2024-05-01 is not a snapshot timestamp like 20261127T153000Z/],
    ['--yes on a listing', snapshotsCommandWith({ confirmer: nobody }), ['shop', '--yes'], /--yes goes with restore and import/],
    ['--pre-restore on a take', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'take', '--pre-restore'], /--pre-restore goes with restore/],
    ['take with an argument', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'take', 'now'], /take takes no argument/],
    ['export without a timestamp', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'export'], /export needs a snapshot timestamp/],
    ['export of a path instead of a timestamp', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'export', '../../etc/passwd'], /export needs a snapshot timestamp like 20261127T153000Z/],
    ['-o on anything but export', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'take', '-o', 'x'], /-o goes with export/],
    ['import without a file', snapshotsCommandWith({ confirmer: nobody }), ['shop', 'import'], /import needs the dump file/],
    ['cron without an app', cronCommandWith(), [], /^usage: norn cron <app>/],
    ['cron with an unknown action', cronCommandWith(), ['shop', 'stop', 'tick'], /unknown cron action stop: run, pause, resume or history/],
    ['cron run without a process', cronCommandWith(), ['shop', 'run'], /run needs the scheduled process \(norn cron shop lists them\)/],
    ['--wait with pause', cronCommandWith(), ['shop', 'pause', 'tick', '--wait'], /--wait goes with run/],
    ['--limit with run', cronCommandWith(), ['shop', 'run', 'tick', '--limit', '3'], /--limit goes with history/],
    ['runs with three arguments', runsCommand, ['shop', 'tick', 'x'], /^usage: norn runs <app> \[process\]/],
    ['invoke with a payload file that is not there', invokeCommandWith(), ['shop', 'fn', '--payload', '/nonexistent/payload.json'], /cannot read the payload file \/nonexistent\/payload\.json: no such file/],
    ['invoke with a payload past 16 KiB', invokeCommandWith({ stdin: [Buffer.alloc(16 * 1024 + 1)] }), ['shop', 'fn', '--payload', '-'], /the payload is 16385 bytes; at most 16384 \(16 KiB\)/],
    ['teardown without an app', teardownCommandWith({ confirmer: nobody }), [], /^usage: norn teardown <app> \[--yes\]/],
    ['ingress with an argument', ingressCommand, ['shop'], /^usage: norn ingress/],
    ['plan without an app', planCommand, [], /^usage: norn plan <app>/],
    ['plan with --image and no value', planCommand, ['shop', '--image'], /--image/],
    ['secrets without an action', secretsCommand, [], /^usage: norn secrets decrypt <file> \| norn secrets keys <app>/],
    ['secrets with an unknown action', secretsCommand, ['show', 'x'], /unknown secrets action show/],
    ['secrets decrypt without a file', secretsCommand, ['decrypt'], /give one file/],
    ['secrets decrypt with an unknown format', secretsCommand, ['decrypt', 'f.yaml', '--format', 'toml'], /--format must be one of yaml, json, dotenv/],
    ['secrets keys without an app', secretsCommand, ['keys'], /^usage: norn secrets keys <app>/],
  ];
  for (const [what, command, args, message] of cases) {
    it(`refuses ${what}`, async () => {
      const c = captureIo();
      expect(await command(args, env, c.io), c.err()).to.equal(2);
      expect(c.err()).to.match(message);
      expect(c.out()).to.equal('');
    });
  }
});
