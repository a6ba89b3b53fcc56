// The typed-name confirmation in front of restores and teardowns, with a scripted person and with real streams.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { confirmByName, terminalConfirmer } from '../../../src/cli/confirm.js';
import { captureIo } from '../../fakes/capture-io.js';
import { scriptedPerson } from '../../fakes/scripted-person.js';

const request = { app: 'shop', action: 'replace the data in database shop_db of shop', yes: false };

describe('confirmByName', () => {
  it('goes ahead once the app name is typed (spaces around it do not matter)', async () => {
    const p = scriptedPerson('  shop \n');
    const c = captureIo();
    expect(await confirmByName(request, p, c.io)).to.equal(true);
    expect(p.questions).to.deep.equal(['This will replace the data in database shop_db of shop.\nType the app name (shop) to confirm: ']);
    expect(c.err()).to.equal('');
  });

  it('does nothing when something else is typed, or nothing', async () => {
    for (const [typed, said] of [['shop-2', ' ("shop-2" is not shop)'], ['', '']] as const) {
      const c = captureIo();
      expect(await confirmByName(request, scriptedPerson(typed), c.io)).to.equal(false);
      expect(c.err()).to.equal(`norn: not confirmed${said}; nothing was done\n`);
    }
  });

  it('refuses without a terminal unless --yes, and --yes asks nothing', async () => {
    const c = captureIo();
    expect(await confirmByName(request, scriptedPerson(null), c.io)).to.equal(false);
    expect(c.err()).to.equal('norn: refused: this would replace the data in database shop_db of shop; no terminal to confirm on, so repeat with --yes\n');
    const p = scriptedPerson('nope');
    expect(await confirmByName({ ...request, yes: true }, p, captureIo().io)).to.equal(true);
    expect(p.questions).to.deep.equal([]);
  });
});

describe('terminalConfirmer', () => {
  const streams = (isTTY: boolean) => {
    const input = Object.assign(new PassThrough(), { isTTY }) as unknown as NodeJS.ReadStream;
    const written: string[] = [];
    const output = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    (output as unknown as PassThrough).on('data', (d: Buffer) => written.push(String(d)));
    return { input, output, written };
  };

  it('is interactive only when stdin is a terminal', () => {
    expect(terminalConfirmer(streams(true).input, streams(true).output).isInteractive).to.equal(true);
    expect(terminalConfirmer(streams(false).input, streams(false).output).isInteractive).to.equal(false);
  });

  it('writes the question to its output and reads the typed line', async () => {
    const s = streams(true);
    const answer = terminalConfirmer(s.input, s.output).ask('Type it: ');
    (s.input as unknown as PassThrough).write('shop\n');
    expect(await answer).to.equal('shop');
    expect(s.written.join('')).to.contain('Type it: ');
  });

  it('answers empty when input ends before a line', async () => {
    const s = streams(true);
    const answer = terminalConfirmer(s.input, s.output).ask('Type it: ');
    (s.input as unknown as PassThrough).end();
    expect(await answer).to.equal('');
  });
});
