// How `norn secrets set` reads a value: a pipe whole (less one final newline, bounded), a terminal with echo off.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { stdinSecretInput, withoutFinalNewline } from '../../../src/cli/secret-value-input.js';

/** A stdin that claims to be a terminal and records the raw-mode switches. */
function fakeTerminal(): { input: NodeJS.ReadStream; rawModes: boolean[] } {
  const rawModes: boolean[] = [];
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    setRawMode: (on: boolean) => {
      rawModes.push(on);
      return input;
    },
  });
  return { input: input as unknown as NodeJS.ReadStream, rawModes };
}

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  return { stream: { write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

describe('secret value input', function () {
  it('drops one final newline only', () => {
    expect(withoutFinalNewline('value\n')).to.equal('value');
    expect(withoutFinalNewline('value\r\n')).to.equal('value');
    expect(withoutFinalNewline('two\nlines\n\n')).to.equal('two\nlines\n');
    expect(withoutFinalNewline('value')).to.equal('value');
  });

  it('reads a pipe whole, and gives up past the limit', async () => {
    const pipe = new PassThrough();
    pipe.end('line one\nline two\n');
    expect(await stdinSecretInput(pipe as unknown as NodeJS.ReadStream, sink().stream).readAll(100)).to.equal('line one\nline two\n');
    const big = new PassThrough();
    big.end('x'.repeat(101));
    expect(await stdinSecretInput(big as unknown as NodeJS.ReadStream, sink().stream).readAll(100)).to.equal(undefined);
  });

  it('reads a typed line with echo off, Backspace honoured, and restores the terminal', async () => {
    const { input, rawModes } = fakeTerminal();
    const prompts = sink();
    const reader = stdinSecretInput(input, prompts.stream);
    expect(reader.isInteractive).to.equal(true);
    const line = reader.readHidden('value for KEY (not shown): ');
    input.write('s3cr\u007fet-typed');
    input.write('\r');
    expect(await line).to.equal('s3cet-typed');
    expect(prompts.text()).to.equal('value for KEY (not shown): \n');
    expect(rawModes).to.deep.equal([true, false]);
  });

  it('gives nothing on Ctrl-C', async () => {
    const { input, rawModes } = fakeTerminal();
    const line = stdinSecretInput(input, sink().stream).readHidden('value: ');
    input.write('half\u0003');
    expect(await line).to.equal(undefined);
    expect(rawModes).to.deep.equal([true, false]);
  });
});
