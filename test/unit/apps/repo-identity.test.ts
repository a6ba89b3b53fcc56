import { expect } from 'chai';
import { repoIdentity } from '../../../src/apps/repo-identity.js';

describe('repoIdentity', () => {
  const table: [string, string | undefined][] = [
    ['https://github.com/acme/shop.git', 'github.com/acme/shop'],
    ['https://github.com/acme/shop', 'github.com/acme/shop'],
    ['https://github.com/Acme/Shop.GIT', 'github.com/acme/shop'],
    ['https://GitHub.com/acme/shop/', 'github.com/acme/shop'],
    ['http://github.com/acme/shop.git/', 'github.com/acme/shop'],
    ['https://deploy:s3cret@github.com/acme/shop.git', 'github.com/acme/shop'],
    ['https://oauth2:glpat-xyz@gitlab.example.com:8443/acme/shop.git', 'gitlab.example.com/acme/shop'],
    ['git@github.com:acme/shop.git', 'github.com/acme/shop'],
    ['git@github.com:acme/shop', 'github.com/acme/shop'],
    ['github.com:acme/shop.git', 'github.com/acme/shop'],
    ['ssh://git@github.com/acme/shop.git', 'github.com/acme/shop'],
    ['ssh://git@gitea.example.com:2222/acme/shop.git', 'gitea.example.com/acme/shop'],
    ['git+ssh://git@github.com/acme/shop.git', 'github.com/acme/shop'],
    ['git://github.com/acme/shop.git', 'github.com/acme/shop'],
    ['git@gitlab.com:group/sub/shop.git', 'gitlab.com/group/sub/shop'],
    ['https://gitlab.com/Group/Sub/Shop.git', 'gitlab.com/group/sub/shop'],
    ['  https://github.com/acme/shop.git  ', 'github.com/acme/shop'],
    ['/srv/git/shop.git', 'local:/srv/git/shop'],
    ['/srv/git/shop.git/', 'local:/srv/git/shop'],
    ['/srv/git/shop', 'local:/srv/git/shop'],
    ['/srv/git/shop/.git', 'local:/srv/git/shop'],
    ['/srv/git//Shop.git', 'local:/srv/git/Shop'],
    ['file:///srv/git/shop.git', 'local:/srv/git/shop'],
    ['file://localhost/srv/git/shop.git', 'local:/srv/git/shop'],
    ['file:///srv/git/my%20shop.git', 'local:/srv/git/my shop'],
    ['file://otherhost/srv/git/shop.git', undefined],
    ['shop', undefined],
    ['./repos/shop.git', undefined],
    ['', undefined],
    ['https://github.com/', undefined],
    ['ftp://github.com/acme/shop.git', undefined],
  ];
  for (const [url, identity] of table) {
    it(`${JSON.stringify(url)} -> ${identity ?? 'undefined'}`, () => expect(repoIdentity(url)).to.equal(identity));
  }

  it('gives https, ssh and scp forms of one repo the same identity', () => {
    const forms = ['https://github.com/acme/shop', 'git@github.com:acme/shop.git', 'ssh://git@github.com:22/ACME/shop.git'];
    expect(new Set(forms.map(repoIdentity)).size).to.equal(1);
  });

  it('keeps different owners and hosts apart', () => {
    expect(repoIdentity('https://github.com/acme/shop')).to.not.equal(repoIdentity('https://github.com/other/shop'));
    expect(repoIdentity('https://github.com/acme/shop')).to.not.equal(repoIdentity('https://gitlab.com/acme/shop'));
  });

  it('keeps case in local paths, which Linux treats as different', () => {
    expect(repoIdentity('/srv/git/Shop.git')).to.not.equal(repoIdentity('/srv/git/shop.git'));
  });
});
