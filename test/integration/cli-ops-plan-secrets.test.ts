// `norn plan` and `norn secrets` against the running service, its Nomad simulator and a real SOPS file (the
// humphd-sops-age fixture, copied into the app's dir as secrets.enc.yaml): the jobs a deploy would register with
// secrets redacted, Nomad's verdict, key names without values, and local decryption.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { planCommand } from '../../src/cli/plan-command.js';
import { secretsCommand } from '../../src/cli/secrets-command.js';
import type { NomadJob, PlanAnswer } from '../../src/cli/ops-api-types.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { eventually, specFor, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

const SOPS = () => path.join(fixturesDir(), 'sops', 'humphd-sops-age');
const PLAINTEXT = 'this is a secret';

function shopSpec(repoUrl: string): Record<string, unknown> {
  return specFor('shop', repoUrl, {
    env: { LOG_LEVEL: 'info' },
    secrets: ['secret', 'string', 'MISSING_ONE', 'complex'],
    processes: { web: { port: 8080, health: { path: '/health' } }, cleanup: { command: 'run-cleanup', schedule: '0 3 * * *' } },
  });
}

/** stdout of `norn plan` without --json: the jobs' JSON, a blank line, then the plan summary. */
function splitPlanOutput(out: string): { jobs: NomadJob[]; summary: string[] } {
  const at = out.indexOf('\n\nNomad plan:');
  expect(at, out.slice(-400)).to.be.greaterThan(0);
  return { jobs: JSON.parse(out.slice(0, at)) as NomadJob[], summary: out.slice(at + 2).trimEnd().split('\n') };
}

describe('norn plan and norn secrets against the running service', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;
  let env: Record<string, string>;
  const secretsFile = () => path.join(svc.appsDir, 'shop', 'secrets.enc.yaml');

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'shop' }, 'first');
    svc = await startTestService({
      specs: { shop: shopSpec(repo.url) },
      env: { NORN_API_TOKEN: 'ops-token', SOPS_AGE_KEY_FILE: path.join(SOPS(), 'key.txt') },
    });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'ops-token' };
    const headers = { authorization: 'Bearer ops-token', 'content-type': 'application/json' };
    const res = await fetch(`${svc.url}/api/apps/shop/deploy`, { method: 'POST', headers, body: '{}' });
    const { sagaId } = ((await res.json()) as { deploys: { sagaId: string }[] }).deploys[0]!;
    await eventually('the first deploy to end', async () => {
      const { saga } = (await (await fetch(`${svc.url}/api/sagas/${sagaId}`, { headers })).json()) as { saga: { status: string; error: string | null } };
      if (saga.status === 'failed') throw new Error(`deploy failed: ${saga.error}`);
      return saga.status === 'succeeded' ? true : undefined;
    });
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('says when an app has no secrets file', async () => {
    const c = captureIo();
    expect(await secretsCommand(['keys', 'shop'], env, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: secrets: shop has no secrets file (secrets.enc.yaml, secrets.enc.yml, secrets.enc.json, secrets.enc.env beside its infraspec)\n');
  });

  it('plans the deployed app as unchanged, with the last deploy\'s image', async () => {
    const c = captureIo();
    expect(await planCommand(['shop'], env, c.io), c.err()).to.equal(0);
    expect(c.err()).to.equal('2 job(s) for shop with image registry.example/app:1 (from the last succeeded deploy)\n');
    const { jobs, summary } = splitPlanOutput(c.out());
    expect(jobs.map((j) => j.ID)).to.deep.equal(['shop', 'shop-cleanup']);
    expect(jobs[0]!.TaskGroups[0]!.Tasks[0]!.Env).to.deep.include({ LOG_LEVEL: 'info', PORT: '8080' });
    expect(summary).to.deep.equal(['Nomad plan:', '= job shop: unchanged', '    group web: 1 ignore', '= job shop-cleanup: unchanged', '    group cleanup: 1 create']);
  });

  it('shows what another image would change, and registers nothing', async () => {
    const before = svc.nomad.jobVersions('shop').length;
    const c = captureIo();
    expect(await planCommand(['shop', '--image', 'registry.example/app:2'], env, c.io), c.err()).to.equal(0);
    const { summary } = splitPlanOutput(c.out());
    expect(summary).to.include.members(['~ job shop: would change', '    group web: 1 create/destroy update']);
    expect(summary).to.include('    ~ group web › task web: Config.image: "registry.example/app:1" => "registry.example/app:2"');
    expect(svc.nomad.jobVersions('shop')).to.have.length(before);
    expect(svc.nomad.job('shop')!.TaskGroups[0]!.Tasks[0]!.Config).to.include({ image: 'registry.example/app:1' });
  });

  it('lists the secrets file\'s key names, never values, and warns about names the spec expects', async () => {
    fs.copyFileSync(path.join(SOPS(), 'secret.enc.yaml'), secretsFile());
    const c = captureIo();
    expect(await secretsCommand(['keys', 'shop'], env, c.io), c.err()).to.equal(0);
    expect(c.lines()).to.deep.equal(['secret', 'string', 'int', 'float', 'boolean']);
    const file = fs.realpathSync(secretsFile());
    expect(c.err().split('\n').filter(Boolean)).to.deep.equal([
      `5 key(s) in ${file}`,
      'note: not passed as env (nested or null): complex',
      `warning: MISSING_ONE is in shop's spec secrets list but not in ${file}`,
      `warning: complex is in shop's spec secrets list but is nested or null in ${file}, so no task gets it`,
    ]);
    expect(c.out() + c.err()).not.to.contain(PLAINTEXT);
  });

  it('plans with the secrets in the job Nomad sees, and redacted in everything printed', async () => {
    const planned = () => svc.nomad.requests.filter((r) => r.path === '/v1/job/shop/plan');
    const earlier = planned().length;
    const c = captureIo();
    expect(await planCommand(['shop'], env, c.io), c.err()).to.equal(0);
    expect(c.err()).to.equal('2 job(s) for shop with image registry.example/app:1 (from the last succeeded deploy); secret env values shown as <redacted> (boolean, float, int, secret, string)\n');
    expect(c.out()).not.to.contain(PLAINTEXT);
    const { jobs, summary } = splitPlanOutput(c.out());
    expect(jobs[0]!.TaskGroups[0]!.Tasks[0]!.Env).to.deep.include({ secret: '<redacted>', int: '<redacted>', LOG_LEVEL: 'info' });
    expect(summary).to.include('    + group web › task web: Env.secret: "<redacted>"');
    // The plan is of the real job: Nomad got the value, the operator's terminal did not.
    expect(JSON.stringify(planned().slice(earlier))).to.contain(PLAINTEXT);

    const json = captureIo();
    expect(await planCommand(['shop', '--json'], env, json.io), json.err()).to.equal(0);
    const answer = JSON.parse(json.out()) as PlanAnswer;
    expect(answer.plan!.map((p) => p.jobId)).to.deep.equal(['shop', 'shop-cleanup']);
    expect(json.out()).not.to.contain(PLAINTEXT);
  });

  it('refuses to plan or list keys when the secrets file fails its MAC, saying so', async () => {
    const good = fs.readFileSync(secretsFile(), 'utf8');
    fs.writeFileSync(secretsFile(), good.replace(/^string: ENC\[AES256_GCM,data:[^,]+/m, 'string: ENC[AES256_GCM,data:LNzAFGsf'));
    try {
      for (const [command, args] of [[planCommand, ['shop']], [secretsCommand, ['keys', 'shop']]] as const) {
        const c = captureIo();
        expect(await command([...args], env, c.io)).to.equal(1);
        expect(c.err()).to.match(/^norn: secrets: .*secrets\.enc\.yaml: /);
        expect(c.out()).to.equal('');
      }
    } finally {
      fs.writeFileSync(secretsFile(), good);
    }
  });

  it('says the app is unknown', async () => {
    const c = captureIo();
    expect(await planCommand(['blog'], env, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: app blog not found\n');
  });
});

describe('norn plan without Nomad', function () {
  this.timeout(30_000);
  let svc: TestService;
  let env: Record<string, string>;

  before(async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { image: _image, ...builds } = specFor('builder', 'https://git.example.com/acme/builder.git');
    const builder = { ...builds, build: {} };
    svc = await startTestService({ specs: { shop: shopSpec('https://git.example.com/acme/shop.git'), builder }, env: { NOMAD_ADDR: `http://127.0.0.1:${closedPort}` } });
    env = { NORN_URL: svc.url, NORN_DATA_DIR: svc.dataDir };
  });
  after(async () => svc?.close());

  it('still prints the jobs, with the spec\'s image, and says why there is no plan', async () => {
    const c = captureIo();
    expect(await planCommand(['shop'], env, c.io), c.err()).to.equal(0);
    const [header, why] = c.err().split('\n');
    expect(header).to.equal('2 job(s) for shop with image registry.example/app:1 (from the spec)');
    expect(why).to.match(/^norn: no plan from Nomad: nomad: plan job failed: no answer from http:\/\/127\.0\.0\.1:\d+ \(connection refused\); is Nomad running\? set NOMAD_ADDR$/);
    expect((JSON.parse(c.out()) as NomadJob[]).map((j) => j.ID)).to.deep.equal(['shop', 'shop-cleanup']);
  });

  it('asks for an image when the app builds its own and was never deployed', async () => {
    const c = captureIo();
    expect(await planCommand(['builder'], env, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: image: builder builds its image and has no succeeded deploy yet; name the image to plan (norn plan --image TAG)\n');
    const given = captureIo();
    expect(await planCommand(['builder', '--image', 'registry.example/builder:7'], env, given.io), given.err()).to.equal(0);
    expect(given.err()).to.match(/^1 job\(s\) for builder with image registry\.example\/builder:7 \(as given\)\n/);
  });
});

describe('norn secrets decrypt', () => {
  let dir: string;
  const keyEnv = () => ({ SOPS_AGE_KEY_FILE: path.join(SOPS(), 'key.txt') });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-sops-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the decrypted document in its own format, from SOPS_AGE_KEY_FILE or SOPS_AGE_KEY', async () => {
    const c = captureIo();
    expect(await secretsCommand(['decrypt', path.join(SOPS(), 'secret.enc.yaml')], keyEnv(), c.io), c.err()).to.equal(0);
    expect(c.out()).to.equal('secret: this is a secret\nstring: string\nint: 7\nfloat: 3.14\nboolean: true\ncomplex:\n  value: this is a secret\n  array:\n    - one\n    - two\n    - three\n');
    const key = fs.readFileSync(path.join(SOPS(), 'key.txt'), 'utf8');
    const env = captureIo();
    expect(await secretsCommand(['decrypt', path.join(SOPS(), 'secret.enc.env')], { SOPS_AGE_KEY: key }, env.io), env.err()).to.equal(0);
    expect(env.out()).to.equal('secret=this is a secret\nanother_secret=7\n');
  });

  it('decrypts a file with another name when told its format', async () => {
    const file = path.join(dir, 'prod-secrets');
    fs.copyFileSync(path.join(SOPS(), 'secret.enc.json'), file);
    const c = captureIo();
    expect(await secretsCommand(['decrypt', file, '--format', 'json'], keyEnv(), c.io), c.err()).to.equal(0);
    expect(JSON.parse(c.out())).to.deep.include({ secret: PLAINTEXT, int: 7 });
  });

  it('fails with one line and no plaintext: no identity, tampered file, missing file', async () => {
    const tampered = path.join(dir, 'secret.enc.yaml');
    fs.writeFileSync(tampered, fs.readFileSync(path.join(SOPS(), 'secret.enc.yaml'), 'utf8').replace(/^int: ENC\[AES256_GCM,data:Ag==/m, 'int: ENC[AES256_GCM,data:Aw=='));
    const cases: [Record<string, string>, string, RegExp][] = [
      [{}, path.join(SOPS(), 'secret.enc.yaml'), /^norn: .*secret\.enc\.yaml: no age identity configured/],
      [keyEnv(), tampered, /^norn: .*secret\.enc\.yaml: /],
      [keyEnv(), path.join(dir, 'nope.yaml'), /^norn: .*nope\.yaml: no such file\n$/],
    ];
    for (const [env, file, message] of cases) {
      const c = captureIo();
      expect(await secretsCommand(['decrypt', file], env, c.io), file).to.equal(1);
      expect(c.err()).to.match(message);
      expect(c.err().split('\n').filter(Boolean)).to.have.length(1);
      expect(c.out()).to.equal('');
      expect(c.err()).not.to.contain(PLAINTEXT);
    }
  });
});
