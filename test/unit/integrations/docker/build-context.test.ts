import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { PathEscapeError, resolveInRepo } from '../../../../src/integrations/docker/build-context.js';

describe('resolveInRepo', () => {
  let repo = '';
  let outside = '';
  before(async () => {
    outside = await mkdtemp(path.join(tmpdir(), 'norn-outside-'));
    await writeFile(path.join(outside, 'Dockerfile'), 'FROM x\n');
    repo = await mkdtemp(path.join(tmpdir(), 'norn-repo-'));
    await mkdir(path.join(repo, 'svc'));
    await writeFile(path.join(repo, 'svc', 'Dockerfile'), 'FROM x\n');
    await symlink('svc', path.join(repo, 'inside-link'));
    await symlink(outside, path.join(repo, 'outside-link'));
  });
  after(async () => {
    await rm(repo, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('resolves paths in the repo, including symlinks that stay inside', async () => {
    expect(await resolveInRepo(repo, 'build.context', '.')).to.equal(repo);
    expect(await resolveInRepo(repo, 'build.dockerfile', 'inside-link/Dockerfile')).to.equal(path.join(repo, 'svc', 'Dockerfile'));
  });

  const refused: Array<[string, RegExp]> = [
    ['../x', /must not contain "\.\."/],
    ['svc/../../x', /must not contain "\.\."/],
    ['/etc', /must be relative/],
    ['outside-link', /leads outside the repository/],
    ['outside-link/Dockerfile', /leads outside the repository/],
    ['missing', /does not exist/],
  ];
  for (const [p, reason] of refused) {
    it(`refuses ${p}, naming the field`, async () => {
      const err = await resolveInRepo(repo, 'build.context', p).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(PathEscapeError).with.property('field', 'build.context');
      expect((err as Error).message).to.match(reason);
    });
  }
});
