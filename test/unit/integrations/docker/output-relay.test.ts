import { expect } from 'chai';
import { OutputRelay } from '../../../../src/integrations/docker/output-relay.js';

function relay(opts: { intervalMs?: number; tailLines?: number; maxLinesPerReport?: number } = {}) {
  const reports: string[] = [];
  let now = 0;
  const r = new OutputRelay(
    { intervalMs: opts.intervalMs ?? 500, tailLines: opts.tailLines ?? 3, maxLinesPerReport: opts.maxLinesPerReport, isMilestone: (l) => l.startsWith('Step ') },
    { report: (m) => reports.push(m), now: () => now },
  );
  return { r, reports, advance: (ms: number) => (now += ms) };
}

describe('OutputRelay', () => {
  it('sends the first line at once, then gathers lines until the interval has passed', () => {
    const { r, reports, advance } = relay();
    r.write('one\ntwo\nthree\n');
    expect(reports).to.deep.equal(['one']);
    advance(499);
    r.write('four\n');
    expect(reports).to.have.length(1);
    advance(1);
    r.write('five\n');
    expect(reports).to.deep.equal(['one', 'two\nthree\nfour\nfive']);
  });

  it('sends milestones at once, after what was pending', () => {
    const { r, reports } = relay();
    r.write('a\nb\nStep 2/3 : RUN x\n');
    expect(reports).to.deep.equal(['a', 'b', 'Step 2/3 : RUN x']);
  });

  it('joins lines split across chunks, keeps stdout and stderr apart, and flushes the rest on close', () => {
    const { r, reports } = relay();
    r.write('Step 1/1 : FR', 'out');
    r.write('half of stderr', 'err');
    r.write('OM base\nlast without newline', 'out');
    r.close();
    expect(reports).to.deep.equal(['Step 1/1 : FROM base', 'last without newline\nhalf of stderr']);
  });

  it('caps the lines of one report and says how many were left out', () => {
    const { r, reports } = relay({ maxLinesPerReport: 2 });
    r.write('first\n');
    r.write('l1\nl2\nl3\nl4\n');
    r.close();
    expect(reports).to.deep.equal(['first', '(2 lines not shown)\nl3\nl4']);
  });

  it('keeps the last lines as the tail, taking the final state of \\r-redrawn lines', () => {
    const { r } = relay({ tailLines: 3 });
    r.write('1\n2\nprogress 10%\rprogress 100%\n\n4\n');
    expect(r.tail()).to.equal('2\nprogress 100%\n4');
  });

  it('reports pending lines on its own once the interval passes, without more output', async () => {
    const reports: string[] = [];
    const r = new OutputRelay({ intervalMs: 20, tailLines: 5 }, { report: (m) => reports.push(m) });
    r.write('first\nsecond\n');
    expect(reports).to.deep.equal(['first']);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(reports).to.deep.equal(['first', 'second']);
    r.close();
  });
});
