import { expect } from 'chai';
import { validateAppSpec } from '../../../../src/apps/validate-app-spec.js';
import { remoteUrlProblem } from '../../../../src/integrations/git/remote-url.js';
import { DANGEROUS_REMOTE_URLS } from '../../../support/hostile-remote-urls.js';


const ALLOWED = [
  'https://github.com/acme/shop.git',
  'http://127.0.0.1:8080/acme/shop.git',
  'ssh://git@git.example.com:2222/srv/git/shop.git',
  'ssh://git.example.com/srv/git/shop.git',
  'git@github.com:acme/shop.git',
  'github.com:acme/shop',
  'file:///srv/git/shop.git',
  '/srv/git/shop.git',
  'https://[::1]:8443/x/y.git',
];

describe('remote URL allow-list', () => {
  for (const url of DANGEROUS_REMOTE_URLS) {
    it(`refuses ${JSON.stringify(url)}`, () => {
      expect(remoteUrlProblem(url), url).to.be.a('string');
    });
  }

  it('accepts https, http, ssh, scp-style, file:// and absolute paths', () => {
    for (const url of ALLOWED) expect(remoteUrlProblem(url), url).to.equal(undefined);
  });

  it('makes validation fail at repo.url, without echoing the value', () => {
    for (const url of DANGEROUS_REMOTE_URLS) {
      const result = validateAppSpec({ name: 'shop', image: 'x', repo: { url }, processes: { web: {} } });
      expect(result.ok, url).to.equal(false);
      if (result.ok) continue;
      const issue = result.issues.find((i) => i.path === 'repo.url');
      expect(issue, `${url}: ${JSON.stringify(result.issues)}`).to.not.equal(undefined);
      if (url.length > 3) expect(issue!.reason).to.not.contain(url);
    }
  });
});
