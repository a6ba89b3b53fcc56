import { expect } from 'chai';
import { dockerfileFacts } from '../../../../src/integrations/docker/dockerfile-args.js';

describe('dockerfileFacts', () => {
  it('finds ARGs in every stage, several per line, with and without defaults, and the stage names', () => {
    const facts = dockerfileFacts([
      '# syntax=docker/dockerfile:1',
      'ARG BASE=debian',
      'FROM $BASE AS Build',
      'ARG VERSION BUILD_NUMBER=0 \\',
      '    # a comment inside the continuation',
      '    GOFLAGS="-mod=mod"',
      'RUN --mount=type=cache,target=/root/.cache make',
      'from build as test',
      'FROM scratch',
      'arg late',
    ].join('\n'));
    expect([...facts.args].sort()).to.deep.equal(['BASE', 'BUILD_NUMBER', 'GOFLAGS', 'VERSION', 'late']);
    expect(facts.stages).to.deep.equal(['build', 'test']);
    expect(facts.hasHeredoc).to.equal(false);
  });

  it('follows the escape directive and notices heredocs', () => {
    const facts = dockerfileFacts('# escape=`\nFROM x\nARG A=1 `\n  B\nRUN <<EOF\necho hi\nEOF\n');
    expect([...facts.args].sort()).to.deep.equal(['A', 'B']);
    expect(facts.hasHeredoc).to.equal(true);
  });

  it('does not take an ARG mentioned in a RUN for a declaration', () => {
    expect([...dockerfileFacts('FROM x\nRUN echo ARG VERSION\n').args]).to.deep.equal([]);
  });
});
