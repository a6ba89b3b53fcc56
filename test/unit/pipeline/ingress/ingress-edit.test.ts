// Editing a cloudflared config for an app, starting from the real configs in cloudflared's repository: the
// operator's text (comments, originRequest blocks, quoting, indentation) must survive byte for byte.
import { expect } from 'chai';
import { CloudflaredConfigError } from '../../../../src/integrations/cloudflared/cloudflared-config-error.js';
import { readIngress } from '../../../../src/integrations/cloudflared/ingress-document.js';
import { planAppRemoval, planAppRoutes } from '../../../../src/pipeline/ingress/ingress-edit.js';
import { readFixture } from '../../../support/fixtures-dir.js';

const fixture = (name: string) => ({ path: name, text: readFixture(`cloudflared/${name}`).toString('utf8') });
const shop = [
  { hostname: 'shop.example.com', service: 'http://10.0.0.5:8080' },
  { hostname: 'api.shop.example.com', service: 'http://10.0.0.5:8080' },
];

function refusal(fn: () => unknown): CloudflaredConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CloudflaredConfigError) return err;
    throw err;
  }
  throw new Error('expected a CloudflaredConfigError');
}

describe('planAppRoutes', () => {
  for (const name of ['component-tests.config.yml', 'ingress-config_test.originRequest.yml', 'ingress_test.socks.yml']) {
    it(`adds the app's rules just before the catch-all of ${name}, leaving the rest of the text as it was`, () => {
      const config = fixture(name);
      const plan = planAppRoutes(config, 'shop', shop);
      expect(plan.changed).to.equal(true);
      expect(plan.added).to.deep.equal(['shop.example.com', 'api.shop.example.com']);

      const ingress = readIngress(plan.text);
      expect(ingress.problems).to.deep.equal([]);
      const last = ingress.rules.length - 1;
      expect(ingress.rules.slice(last - 2, last).map((r) => [r.hostname, r.service, r.owner])).to.deep.equal([
        ['shop.example.com', 'http://10.0.0.5:8080', 'shop'],
        ['api.shop.example.com', 'http://10.0.0.5:8080', 'shop'],
      ]);
      // Removing exactly the inserted lines gives back the original bytes.
      const inserted =
        /^( *)- hostname: shop\.example\.com # norn:shop\n\1 {2}service: http:\/\/10\.0\.0\.5:8080\n\1- hostname: api\.shop\.example\.com # norn:shop\n\1 {2}service: http:\/\/10\.0\.0\.5:8080\n/m;
      expect(plan.text).to.match(inserted);
      expect(plan.text.replace(inserted, '')).to.equal(config.text);
    });
  }

  it('keeps originRequest blocks, flow sequences and quoting of the other rules verbatim', () => {
    const socks = planAppRoutes(fixture('ingress_test.socks.yml'), 'shop', shop).text;
    expect(socks).to.contain('  originRequest:\n    ipRules:\n      - prefix: 1.1.1.0/24\n        ports: [80, 443]\n        allow: true\n');
    const origin = planAppRoutes(fixture('ingress-config_test.originRequest.yml'), 'shop', shop).text;
    expect(origin).to.contain('  bastionMode: True\n');
    expect(origin).to.contain('- hostname: "*"\n  service: https://localhost:8001\n  originRequest:\n    connectTimeout: 2m\n');
    expect(origin).to.contain('    - prefix: "192.16.0.0/24"\n');
  });

  it('updates only the service of an existing rule, in place, with its comments and originRequest', () => {
    const text =
      '# tunnel for the shop\ntunnel: abc\ningress:\n' +
      '  - hostname: shop.example.com # norn:shop\n    service: http://10.0.0.5:8080  # set by norn\n    originRequest:\n      noTLSVerify: true\n' +
      '  - hostname: other.example.com\n    service: http://10.0.0.9:80\n' +
      '  # everything else\n  - service: http_status:404\n';
    const plan = planAppRoutes({ path: 'c.yml', text }, 'shop', [{ hostname: 'shop.example.com', service: 'http://10.0.0.7:9090' }]);
    expect(plan.updated).to.deep.equal(['shop.example.com']);
    expect(plan.added).to.deep.equal([]);
    expect(plan.text).to.equal(text.replace('http://10.0.0.5:8080', 'http://10.0.0.7:9090'));
  });

  it('inserts above the comment that introduces the catch-all, at the list indentation', () => {
    const text = 'ingress:\n  - hostname: a.example.com\n    service: http://x:1\n  # the catch-all\n  - service: http_status:404\n';
    const plan = planAppRoutes({ path: 'c.yml', text }, 'shop', [shop[0]!]);
    expect(plan.text).to.equal(
      'ingress:\n  - hostname: a.example.com\n    service: http://x:1\n' +
        '  - hostname: shop.example.com # norn:shop\n    service: http://10.0.0.5:8080\n' +
        '  # the catch-all\n  - service: http_status:404\n',
    );
  });

  it('puts a new rule above a wildcard rule that would otherwise take the hostname', () => {
    const text = 'ingress:\n- hostname: "*.example.com"\n  service: http://wild:1\n- service: http_status:404\n';
    const plan = planAppRoutes({ path: 'c.yml', text }, 'shop', [shop[0]!]);
    const rules = readIngress(plan.text).rules;
    expect(rules.map((r) => r.hostname)).to.deep.equal(['shop.example.com', '*.example.com', undefined]);
    expect(plan.warnings).to.deep.equal([]);
  });

  it('is idempotent: the same routes again change nothing', () => {
    const once = planAppRoutes(fixture('ingress_test.socks.yml'), 'shop', shop);
    const twice = planAppRoutes({ path: 'c.yml', text: once.text }, 'shop', shop);
    expect(twice.changed).to.equal(false);
    expect(twice.text).to.equal(once.text);
    expect(twice.unchanged).to.deep.equal(['shop.example.com', 'api.shop.example.com']);
  });

  it("drops the app's rules for hostnames it no longer declares, and keeps other apps' rules", () => {
    let text = planAppRoutes(fixture('component-tests.config.yml'), 'shop', shop).text;
    text = planAppRoutes({ path: 'c.yml', text }, 'blog', [{ hostname: 'blog.example.com', service: 'http://10.0.0.8:3000' }]).text;
    const plan = planAppRoutes({ path: 'c.yml', text }, 'shop', [shop[0]!]);
    expect(plan.removed).to.deep.equal(['api.shop.example.com']);
    expect(readIngress(plan.text).rules.map((r) => `${r.hostname}:${r.owner}`)).to.deep.equal([
      'named-tunnel-component-tests.example.com:undefined',
      'shop.example.com:shop',
      'blog.example.com:blog',
      'undefined:undefined',
    ]);
  });

  it('refuses a hostname routed by a rule norn does not own, or owned by another app', () => {
    const config = fixture('component-tests.config.yml');
    const taken = refusal(() => planAppRoutes(config, 'shop', [{ hostname: 'named-tunnel-component-tests.example.com', service: 'http://x:1' }]));
    expect(taken.kind).to.equal('conflict');
    expect(taken.message).to.contain('which norn does not manage');

    const blog = planAppRoutes(config, 'blog', [{ hostname: 'blog.example.com', service: 'http://x:1' }]).text;
    const stolen = refusal(() => planAppRoutes({ path: 'c.yml', text: blog }, 'shop', [{ hostname: 'blog.example.com', service: 'http://x:2' }]));
    expect(stolen.message).to.contain('of app blog');
  });

  it('refuses an invalid file and a flow-style ingress list', () => {
    const invalid = refusal(() => planAppRoutes({ path: 'c.yml', text: 'ingress:\n- hostname: a.example.com\n  service: http://x:1\n' }, 'shop', shop));
    expect(invalid.kind).to.equal('invalid');
    const flow = refusal(() => planAppRoutes({ path: 'c.yml', text: 'ingress: [{service: "http_status:404"}]\n' }, 'shop', shop));
    expect(flow.kind).to.equal('unsupported');
  });

  it('keeps CRLF line endings', () => {
    const text = 'ingress:\r\n- hostname: a.example.com\r\n  service: http://x:1\r\n- service: http_status:404\r\n';
    const plan = planAppRoutes({ path: 'c.yml', text }, 'shop', [shop[0]!]);
    expect(plan.text).to.contain('- hostname: shop.example.com # norn:shop\r\n  service: http://10.0.0.5:8080\r\n- service');
  });
});

describe('planAppRemoval', () => {
  it("removes only the app's rules and gives back the original bytes", () => {
    const original = fixture('ingress-config_test.originRequest.yml');
    const both = planAppRoutes(
      { path: 'c.yml', text: planAppRoutes(original, 'shop', shop).text },
      'blog',
      [{ hostname: 'blog.example.com', service: 'http://10.0.0.8:3000' }],
    ).text;
    const withoutShop = planAppRemoval({ path: 'c.yml', text: both }, 'shop');
    expect(withoutShop.removed).to.deep.equal(['shop.example.com', 'api.shop.example.com']);
    expect(readIngress(withoutShop.text).rules.filter((r) => r.owner).map((r) => r.hostname)).to.deep.equal(['blog.example.com']);
    expect(planAppRemoval({ path: 'c.yml', text: withoutShop.text }, 'blog').text).to.equal(original.text);
  });

  it('changes nothing for an app without rules', () => {
    const plan = planAppRemoval(fixture('ingress_test.socks.yml'), 'shop');
    expect(plan.changed).to.equal(false);
    expect(plan.removed).to.deep.equal([]);
  });
});
