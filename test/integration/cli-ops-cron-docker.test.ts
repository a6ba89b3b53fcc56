// `norn cron` and `norn invoke --payload` against the running service on the real Docker engine: a scheduled
// process run now (trigger manual, followed to its end), paused (kept across a receiver restart, run now refused)
// and resumed, each pause/resume an operation saga; a function invoked with a payload it reads from
// $NORN_PAYLOAD_FILE, and payloads past 16 KiB refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { cronCommandWith } from '../../src/cli/cron-commands.js';
import { invokeCommandWith, runsCommand } from '../../src/cli/run-commands.js';
import { nonce } from '../support/docker-fixture.js';
import { removeAppContainers, appContainers } from '../support/docker-runtime-app.js';
import { startScheduledAppService } from '../support/scheduled-app.js';
import type { TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

describe('norn cron and norn invoke on the Docker runtime (real engine)', function () {
  this.timeout(120_000);
  const app = `cron-${nonce()}`;
  let svc: TestService;
  let env: Record<string, string>;
  let work: string;
  const cron = cronCommandWith({ pollMs: 200 });
  const events = async (sagaId: string) => ((await (await svc.api(`/api/sagas/${sagaId}`)).json()) as { events: { action: string; metadata: Record<string, unknown> }[] }).events;

  before(async () => {
    svc = await startScheduledAppService(app, { apiToken: 'cron-token', greetCommand: 'echo "payload=$(cat "$NORN_PAYLOAD_FILE") args=$*"; exit 3' });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'cron-token' };
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cron-'));
  });
  after(async () => {
    await svc?.close();
    await removeAppContainers(app);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('lists the scheduled processes with their time zone, active', async () => {
    const c = captureIo();
    expect(await cron([app], env, c.io), c.err()).to.equal(0);
    expect(c.lines()).to.deep.equal(['tick  0 4 * * * (Europe/Berlin)  active']);
  });

  it('runs a scheduled process now, follows it to its end, and records it as a manual run', async () => {
    const c = captureIo();
    expect(await cron([app, 'run', 'tick', '--wait'], env, c.io), c.err()).to.equal(0);
    expect(c.lines()[0]).to.equal('tick started');
    const sagaId = /^ {2}saga ([0-9a-f-]{36})$/.exec(c.lines()[1]!)![1]!;
    expect(c.out()).to.contain('tick ran');
    expect(c.err()).to.match(new RegExp(`tick \\(manual\\) {2}exit 0 in \\d+\\.\\ds {2}${sagaId}`));
    const saga = await events(sagaId);
    expect(saga.map((e) => e.action)).to.deep.equal(['run.start', 'run.complete']);
    expect(saga[0]!.metadata).to.include({ process: 'tick', trigger: 'manual', image: 'norn-base:latest' });

    const history = captureIo();
    expect(await cron([app, 'history', 'tick'], env, history.io)).to.equal(0);
    expect(history.lines()).to.have.length(1);
    expect(history.lines()[0]).to.contain(`tick (manual)  exit 0`);
    // The one-off container is removed once it exited.
    expect(await appContainers(app)).to.deep.equal([]);
  });

  it('invokes a function with a payload it reads from $NORN_PAYLOAD_FILE, and arguments', async () => {
    const file = path.join(work, 'payload.json');
    fs.writeFileSync(file, '{"order":42}');
    const c = captureIo();
    expect(await invokeCommandWith()([app, 'greet', 'a', 'b', '--payload', file], env, c.io)).to.equal(1);
    expect(c.out()).to.equal('payload={"order":42} args=a b\n');
    expect(c.err()).to.match(/greet \(invoke\) {2}exit 3 in /);

    const stdin = captureIo();
    expect(await invokeCommandWith({ stdin: [Buffer.from('from stdin')] })([app, 'greet', '--payload', '-'], env, stdin.io)).to.equal(1);
    expect(stdin.out()).to.equal('payload=from stdin args=\n');

    const runs = captureIo();
    expect(await runsCommand([app, 'greet'], env, runs.io)).to.equal(0);
    expect(runs.lines()).to.have.length(2);
    expect(runs.lines().every((l) => l.includes('greet (invoke)  exit 3'))).to.equal(true);
  });

  it('refuses a payload past 16 KiB, in the CLI and in the API, and a payload that is not base64', async () => {
    const big = path.join(work, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(16 * 1024 + 1, 'x'));
    const c = captureIo();
    expect(await invokeCommandWith()([app, 'greet', '--payload', big], env, c.io)).to.equal(2);
    expect(c.err()).to.contain('the payload is 16385 bytes; at most 16384 (16 KiB)');
    const res = await svc.api(`/api/apps/${app}/processes/greet/invoke`, { method: 'POST', body: JSON.stringify({ payload: Buffer.alloc(16 * 1024 + 1).toString('base64') }) });
    expect(res.status).to.equal(413);
    expect(((await res.json()) as { error: string }).error).to.equal('payload: is 16385 bytes; at most 16384 (16 KiB)');
    const bad = await svc.api(`/api/apps/${app}/processes/greet/invoke`, { method: 'POST', body: JSON.stringify({ payload: 'not base64!' }) });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { field: string }).field).to.equal('payload');
  });

  it('pauses a schedule (kept across a restart, run now refused) and resumes it, each an operation saga', async () => {
    const paused = captureIo();
    expect(await cron([app, 'pause', 'tick'], env, paused.io), paused.err()).to.equal(0);
    expect(paused.lines()[0]).to.equal('tick paused: it does not run on its schedule until resumed');
    const pauseSaga = /saga ([0-9a-f-]{36})/.exec(paused.out())![1]!;
    const pauseEvents = await events(pauseSaga);
    expect(pauseEvents.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    expect(pauseEvents[0]!.metadata).to.include({ verb: 'cron pause', process: 'tick' });

    const again = captureIo();
    expect(await cron([app, 'pause', 'tick'], env, again.io)).to.equal(0);
    expect(again.lines()[0]).to.equal('tick was paused already');

    svc = await svc.restart();
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'cron-token' };
    const listed = captureIo();
    expect(await cron([app], env, listed.io)).to.equal(0);
    expect(listed.lines()[0]).to.match(/^tick {2}0 4 \* \* \* \(Europe\/Berlin\) {2}paused since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    const refused = captureIo();
    expect(await cron([app, 'run', 'tick'], env, refused.io)).to.equal(1);
    expect(refused.err()).to.equal(`norn: process: the schedule of tick is paused; resume it first (norn cron ${app} resume tick)\n`);

    const resumed = captureIo();
    expect(await cron([app, 'resume', 'tick'], env, resumed.io), resumed.err()).to.equal(0);
    expect(resumed.lines()[0]).to.equal('tick resumed: it runs on its schedule again');
    const resumeSaga = /saga ([0-9a-f-]{36})/.exec(resumed.out())![1]!;
    expect((await events(resumeSaga))[0]!.metadata).to.include({ verb: 'cron resume' });
    const active = captureIo();
    expect(await cron([app], env, active.io)).to.equal(0);
    expect(active.lines()).to.deep.equal(['tick  0 4 * * * (Europe/Berlin)  active']);
  });

  it('refuses verbs that do not fit the process, naming what to do', async () => {
    const cases: [string[], string][] = [
      [[app, 'pause', 'greet'], 'norn: process: greet has no schedule to pause\n'],
      [[app, 'run', 'greet'], `norn: process: greet is a function process: invoke it (norn invoke ${app} greet)\n`],
      [[app, 'run', 'nope'], `norn: scheduled or function process ${app}/nope not found\n`],
    ];
    for (const [argv, message] of cases) {
      const c = captureIo();
      expect(await cron(argv, env, c.io), argv.join(' ')).to.equal(1);
      expect(c.err()).to.equal(message);
    }
  });
});
