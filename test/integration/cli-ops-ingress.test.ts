// `norn ingress` and `norn teardown` against the running service and its cloudflared config file: the listing,
// the typed-name confirmation, and the file edited only when confirmed.
import { expect } from 'chai';
import fs from 'node:fs';
import { ingressCommand, teardownCommandWith } from '../../src/cli/ingress-commands.js';
import type { Confirmer } from '../../src/cli/confirm.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

const CONFIG = `tunnel: test
# rules below the docs one are norn's
ingress:
  - hostname: docs.example.com
    service: http://10.0.0.9:80
    originRequest:
      noTLSVerify: true
  - hostname: shop.example.com # norn:shop
    service: http://10.0.0.5:8080
  - hostname: api.shop.example.com # norn:shop
    service: http://10.0.0.5:8080
  - service: http_status:404
`;

function person(answer: string): Confirmer & { questions: string[] } {
  const questions: string[] = [];
  return { isInteractive: true, questions, ask: async (q) => (questions.push(q), answer) };
}

describe('norn ingress and norn teardown against the running service', function () {
  this.timeout(30_000);
  let svc: TestService;
  let env: Record<string, string>;
  const config = () => fs.readFileSync(svc.cloudflaredConfig, 'utf8');

  before(async () => {
    svc = await startTestService({ env: { NORN_API_TOKEN: 'ops-token' } });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'ops-token' };
  });
  beforeEach(() => fs.writeFileSync(svc.cloudflaredConfig, CONFIG));
  after(async () => svc?.close());

  it('lists the rules with the app that owns each', async () => {
    const c = captureIo();
    expect(await ingressCommand([], env, c.io), c.err()).to.equal(0);
    expect(c.lines()).to.deep.equal([
      `cloudflared ingress in ${fs.realpathSync(svc.cloudflaredConfig)}`,
      '  #  HOSTNAME              PATH  SERVICE               APP',
      '  1  docs.example.com      -     http://10.0.0.9:80    -',
      '  2  shop.example.com      -     http://10.0.0.5:8080  shop',
      '  3  api.shop.example.com  -     http://10.0.0.5:8080  shop',
      '  4  *                     -     http_status:404       -',
    ]);
  });

  it('refuses to tear down without a terminal or --yes, and leaves the file alone', async () => {
    const c = captureIo();
    expect(await teardownCommandWith({ confirmer: { isInteractive: false, ask: async () => 'shop' } })(['shop'], env, c.io)).to.equal(1);
    expect(c.err()).to.equal("norn: refused: this would remove shop's cloudflared ingress rules, so shop.example.com, api.shop.example.com stop reaching it; no terminal to confirm on, so repeat with --yes\n");
    // The receiver's runtime here is Nomad (the simulator): teardown leaves its jobs, and says so before asking.
    expect(c.out()).to.equal('Nomad jobs are not stopped by teardown: run `nomad job stop shop`\n');
    expect(config()).to.equal(CONFIG);
  });

  it('names the hostnames that go away and does nothing when another name is typed', async () => {
    const p = person('docs');
    const c = captureIo();
    expect(await teardownCommandWith({ confirmer: p })(['shop'], env, c.io)).to.equal(1);
    expect(p.questions[0]).to.contain("remove shop's cloudflared ingress rules, so shop.example.com, api.shop.example.com stop reaching it");
    expect(config()).to.equal(CONFIG);
  });

  it('removes only the app\'s rules once its name is typed, keeping comments and other rules', async () => {
    const c = captureIo();
    expect(await teardownCommandWith({ confirmer: person('shop') })(['shop'], env, c.io), c.err()).to.equal(0);
    expect(c.lines()[0]).to.equal('Nomad jobs are not stopped by teardown: run `nomad job stop shop`');
    expect(c.lines()[1]).to.match(/^cloudflared ingress removed shop\.example\.com, api\.shop\.example\.com in .*cloudflared\.yml; cloudflared must be restarted/);
    expect(config()).to.equal(`tunnel: test
# rules below the docs one are norn's
ingress:
  - hostname: docs.example.com
    service: http://10.0.0.9:80
    originRequest:
      noTLSVerify: true
  - service: http_status:404
`);
  });

  it('asks nothing for an app without rules, and --yes skips the question', async () => {
    const p = person('x');
    const none = captureIo();
    expect(await teardownCommandWith({ confirmer: p })(['blog'], env, none.io)).to.equal(0);
    expect(none.out()).to.equal('blog has no cloudflared rules and teardown would stop none of its instances (Nomad jobs are not stopped by teardown: run `nomad job stop blog`); nothing to tear down\n');
    expect(p.questions).to.deep.equal([]);

    const yes = captureIo();
    expect(await teardownCommandWith({ confirmer: p })(['shop', '--yes'], env, yes.io), yes.err()).to.equal(0);
    expect(p.questions).to.deep.equal([]);
    expect(config()).not.to.contain('norn:shop');
  });

  it('says what is wrong when the config file is missing', async () => {
    fs.rmSync(svc.cloudflaredConfig);
    const c = captureIo();
    expect(await ingressCommand([], env, c.io)).to.equal(1);
    const hint = 'the file does not exist; create it with the tunnel';
    expect(c.err()).to.match(/^norn: NORN_CLOUDFLARED_CONFIG: cloudflared config .*cloudflared\.yml: the file does not exist/);
    expect(c.err().split(hint).length - 1, 'the hint appears once').to.equal(1);
    const t = captureIo();
    expect(await teardownCommandWith({ confirmer: person('shop') })(['shop', '--yes'], env, t.io)).to.equal(1);
    expect(t.err()).to.match(/^norn: NORN_CLOUDFLARED_CONFIG: cloudflared config /);
    expect(t.err().split(hint).length - 1, 'the hint appears once').to.equal(1);
  });
});
