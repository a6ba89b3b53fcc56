// `norn deploy` against a scripted receiver: what an operator sees in a pipe, the exit codes, and resuming after
// a dropped connection without a repeated or missing step.
import { expect } from 'chai';
import { deployCommandWith } from '../../../src/cli/deploy-command.js';
import { captureIo } from '../../fakes/capture-io.js';
import { SAGA, sagaScript, scriptedReceiver, type ScriptedReceiver } from '../../fakes/scripted-receiver.js';

const ESC = String.fromCharCode(27);
const deploy = deployCommandWith({ retryDelaysMs: [10, 10, 10] });
const ALL_OK = sagaScript(
  [
    ['clone', 'complete', 'cloned aaaaaaaaaaaa'],
    ['build', 'complete'],
    ['test', 'skipped', 'test skipped: no build.test'],
    ['snapshot', 'skipped', 'snapshot skipped: no postgres declared'],
    ['migrate', 'skipped', 'migrate skipped: no migrations'],
    ['submit', 'complete'],
    ['healthy', 'complete'],
    ['forge', 'skipped', 'forge skipped: no endpoints'],
    ['cleanup', 'complete'],
  ],
  { imageTag: 'registry.local/shop:aaaaaaaaaaaa' },
);

describe('norn deploy (scripted receiver)', () => {
  let rx: ScriptedReceiver;
  afterEach(async () => rx?.close());

  it('prints one line per transition, allocation progress under healthy, the image tag, and exits 0', async () => {
    rx = await scriptedReceiver({ envelopes: ALL_OK });
    const c = captureIo();
    const code = await deploy(['shop'], { NORN_URL: rx.url }, c.io);
    expect(code, c.err()).to.equal(0);
    expect(c.lines()).to.deep.equal([
      `queued shop refs/heads/main @ aaaaaaaaaaaa (saga ${SAGA})`,
      '▶ deploy of shop at aaaaaaaaaaaa started',
      '▶ clone',
      '✓ clone     1.2s',
      '▶ build',
      '✓ build     1.2s',
      '▶ test',
      '– test      skipped: no build.test',
      '▶ snapshot',
      '– snapshot  skipped: no postgres declared',
      '▶ migrate',
      '– migrate   skipped: no migrations',
      '▶ submit',
      '✓ submit    1.2s',
      '▶ healthy',
      '    alloc 1a2b: running, healthy',
      '✓ healthy   1.2s',
      '▶ forge',
      '– forge     skipped: no endpoints',
      '▶ cleanup',
      '✓ cleanup   1.2s',
      '✓ deployed in 9.0s',
      'image registry.local/shop:aaaaaaaaaaaa',
    ]);
    expect(rx.sinces, 'opens the stream just before the saga was queued').to.deep.equal([9]);
  });

  it('exits 1 with the failed step and its error', async () => {
    rx = await scriptedReceiver({
      envelopes: sagaScript([['clone', 'complete'], ['build', 'failed', 'build failed: RUN npm ci exited 1'], ['cleanup', 'complete']], { failedStep: 'build', error: 'RUN npm ci exited 1' }),
    });
    const c = captureIo();
    const code = await deploy(['shop'], { NORN_URL: rx.url }, c.io);
    expect(code).to.equal(1);
    expect(c.lines()).to.include('✗ build     1.2s  RUN npm ci exited 1');
    expect(c.lines().at(-1)).to.equal('✗ failed at build: RUN npm ci exited 1');
  });

  it('resumes after dropped connections from the last seq seen, repeating and missing nothing', async () => {
    const plain = await scriptedReceiver({ envelopes: ALL_OK });
    const c0 = captureIo();
    await deploy(['shop'], { NORN_URL: plain.url }, c0.io);
    await plain.close();

    // Cut after clone's start and after healthy's start; the server also replays 3 events too many.
    rx = await scriptedReceiver({ envelopes: ALL_OK, cutAfter: [12, 24], overlap: 3 });
    const c = captureIo();
    const code = await deploy(['shop'], { NORN_URL: rx.url }, c.io);
    expect(code, c.err()).to.equal(0);
    expect(c.lines()).to.deep.equal(c0.lines());
    expect(rx.sinces).to.deep.equal([9, 12, 24]);
    expect(c.err()).to.contain('resuming after event 12').and.to.contain('resuming after event 24');
  });

  it('redraws a frame in place on a terminal, and never writes escape codes into a pipe', async () => {
    rx = await scriptedReceiver({ envelopes: ALL_OK });
    const tty = captureIo({ isTTY: true });
    expect(await deploy(['shop'], { NORN_URL: rx.url }, tty.io)).to.equal(0);
    const frames = tty.out().split(`${ESC}[0J`);
    expect(frames.length).to.be.greaterThan(2);
    const cursorUp = new RegExp(`${ESC}\\[\\d+F$`);
    expect(frames.slice(1, -1).every((f) => cursorUp.test(f)), 'each frame moves the cursor back over the last').to.equal(true);
    const last = frames.at(-1)!.split('\n');
    expect(last).to.include('  ✓ healthy   1.2s').and.to.include('✓ deployed in 9.0s');
    const plain = captureIo();
    await deploy(['shop'], { NORN_URL: rx.url }, plain.io);
    expect(plain.out()).not.to.contain(ESC);
  });

  it('prints the raw envelopes with --json', async () => {
    rx = await scriptedReceiver({ envelopes: ALL_OK });
    const c = captureIo();
    expect(await deploy(['shop', '--json'], { NORN_URL: rx.url }, c.io)).to.equal(0);
    expect(c.lines().map((l) => JSON.parse(l))).to.deep.equal(ALL_OK);
  });

  it("shows the API's error message, not a stack trace, and exits 1", async () => {
    rx = await scriptedReceiver({ envelopes: [], refuse: { status: 409, error: 'app: shop has deploy: false' } });
    const c = captureIo();
    expect(await deploy(['shop'], { NORN_URL: rx.url }, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: app: shop has deploy: false\n');
  });

  it('exits 2 with the usage on a bad command line', async () => {
    const c = captureIo();
    expect(await deploy([], {}, c.io)).to.equal(2);
    expect(c.err()).to.match(/^usage: norn deploy <app>/);
  });
});
