// Validation of a cloudflared config as cloudflared itself would judge it, on the real configs from cloudflared's
// repository and on broken variants of them.
import { expect } from 'chai';
import { readIngress } from '../../../../src/integrations/cloudflared/ingress-document.js';
import { readFixture } from '../../../support/fixtures-dir.js';

const fixture = (name: string) => readFixture(`cloudflared/${name}`).toString('utf8');

describe('readIngress', () => {
  it('accepts the three real cloudflared configs and lists their rules', () => {
    const component = readIngress(fixture('component-tests.config.yml'));
    expect(component.problems).to.deep.equal([]);
    expect(component.rules.map((r) => [r.hostname, r.service])).to.deep.equal([
      ['named-tunnel-component-tests.example.com', 'hello_world'],
      [undefined, 'http_status:404'],
    ]);
    // The last rule is "*": cloudflared counts it as the catch-all.
    const origin = readIngress(fixture('ingress-config_test.originRequest.yml'));
    expect(origin.problems).to.deep.equal([]);
    expect(origin.rules.map((r) => r.hostname)).to.deep.equal(['tun.example.com', '*']);
    expect(readIngress(fixture('ingress_test.socks.yml')).problems).to.deep.equal([]);
  });

  it('reads the owner of a rule from its `# norn:<app>` marker and no other comment', () => {
    const { rules } = readIngress(
      'ingress:\n- hostname: a.example.com # norn:shop\n  service: http://10.0.0.1:80\n' +
        '- hostname: b.example.com # managed by hand, not norn: shop\n  service: http://10.0.0.2:80\n- service: http_status:404\n',
    );
    expect(rules.map((r) => r.owner)).to.deep.equal(['shop', undefined, undefined]);
  });

  const broken: [string, string, RegExp][] = [
    ['no ingress key', 'tunnel: x\n', /doesn't contain any ingress rules/],
    ['an empty ingress list', 'ingress: []\n', /doesn't contain any ingress rules/],
    ['no catch-all at the end', 'ingress:\n- hostname: a.example.com\n  service: http://x:1\n', /last ingress rule must match all URLs/],
    ['a path on the last rule', 'ingress:\n- path: ^/api\n  service: http://x:1\n', /last ingress rule must match all URLs/],
    ['a catch-all before the end', 'ingress:\n- service: http://x:1\n- hostname: a.example.com\n  service: http://x:2\n- service: http_status:404\n', /rule #1 matches every hostname/],
    ['a port in a hostname', 'ingress:\n- hostname: a.example.com:8080\n  service: http://x:1\n- service: http_status:404\n', /bare hostname/],
    ['a wildcard in the middle', 'ingress:\n- hostname: a.*.example.com\n  service: http://x:1\n- service: http_status:404\n', /wildcard must be a leading/],
    ['a wildcard without a dot', 'ingress:\n- hostname: "*example.com"\n  service: http://x:1\n- service: http_status:404\n', /wildcard must be a leading/],
    ['a malformed hostname', 'ingress:\n- hostname: bad_host!.example.com\n  service: http://x:1\n- service: http_status:404\n', /not a well-formed hostname/],
    ['a rule without service', 'ingress:\n- hostname: a.example.com\n- service: http_status:404\n', /rule #1: has no service/],
    ['a service with a path', 'ingress:\n- hostname: a.example.com\n  service: http://x:1/app\n- service: http_status:404\n', /cannot proxy to a different path/],
    ['a service without scheme', 'ingress:\n- hostname: a.example.com\n  service: localhost:8080\n- service: http_status:404\n', /needs a scheme|has a scheme and a hostname/],
    ['a bad http_status', 'ingress:\n- service: http_status:nope\n', /invalid HTTP status/],
    ['broken YAML', 'ingress:\n- hostname: a\n  service: [unclosed\n', /not valid YAML/],
    ['a rule that is not a mapping', 'ingress:\n- just-a-string\n- service: http_status:404\n', /rule #1 is not a mapping/],
  ];
  for (const [what, text, problem] of broken) {
    it(`refuses ${what}`, () => {
      const { problems } = readIngress(text);
      expect(problems.join('\n')).to.match(problem);
    });
  }

  it('accepts a wildcard subdomain rule and lets bastion mode stand in for a service URL', () => {
    const text =
      'ingress:\n- hostname: "*.example.com"\n  service: http://x:1\n' +
      '- hostname: ssh.example.com\n  originRequest:\n    bastionMode: true\n- service: http_status:404\n';
    expect(readIngress(text).problems).to.deep.equal([]);
  });
});
