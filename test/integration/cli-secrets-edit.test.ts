// `norn secrets set` / `norn secrets delete` and their API against the running service, on a copy of a real
// sops-made file (humphd-sops-age): the edit lands in the file (decrypts, MAC verified, other bytes kept), each one
// is a saga naming the key, the next deploy passes the new value to Nomad, and the value itself shows up nowhere
// else: not in the log, the saga, an API answer, an error or the terminal.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { Confirmer } from '../../src/cli/confirm.js';
import type { SecretValueInput } from '../../src/cli/secret-value-input.js';
import { secretsCommand } from '../../src/cli/secrets-command.js';
import { secretsDeleteCommandWith, secretsSetCommandWith } from '../../src/cli/secrets-edit-commands.js';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { loadAgeIdentities } from '../../src/integrations/sops/age-identities.js';
import { decryptSopsFile } from '../../src/integrations/sops/decrypt-sops.js';
import { fixturesDir } from '../support/fixtures-dir.js';
import { createTestRepo, type TestRepo } from '../support/git-repos.js';
import { eventually, specFor, startTestService, type TestService } from '../support/test-service.js';
import { captureIo } from '../fakes/capture-io.js';

const SOPS = (...parts: string[]) => path.join(fixturesDir(), 'sops', ...parts);
const KEY_FILE = SOPS('humphd-sops-age', 'key.txt');
/** Values no other text in the test contains, so finding one anywhere is a leak. */
const PIPED = 'piped-Value-7f3a9c21e0b44d';
const TYPED = 'typed-Value-51d0e8a2c7f93b';
const BY_API = 'api-Value-c28e4f1a9b7d06';

function piped(text: string): SecretValueInput {
  return { isInteractive: false, readAll: async () => text, readHidden: async () => expect.fail('a pipe is not asked') };
}

function typed(...answers: string[]): SecretValueInput {
  return { isInteractive: true, readAll: async () => expect.fail('a terminal is asked'), readHidden: async () => answers.shift() };
}

const noTerminal: Confirmer = { isInteractive: false, ask: async () => expect.fail('nobody to ask') };

describe('norn secrets set and delete against the running service', function () {
  this.timeout(60_000);
  let repo: TestRepo;
  let svc: TestService;
  let env: Record<string, string>;
  const printed: string[] = [];
  const secretsFile = (app = 'shop') => path.join(svc.appsDir, app, 'secrets.enc.yaml');
  const decrypted = async () => (await decryptSopsFile(secretsFile(), await loadAgeIdentities({ SOPS_AGE_KEY_FILE: KEY_FILE }))).data;

  async function cli(command: (argv: string[], env: Record<string, string>, io: ReturnType<typeof captureIo>['io']) => Promise<number>, argv: string[]) {
    const c = captureIo();
    const code = await command(argv, env, c.io);
    printed.push(c.out(), c.err());
    return { code, out: c.out(), err: c.err() };
  }

  async function api(method: string, url: string, body?: unknown) {
    const res = await svc.api(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await res.text();
    printed.push(text);
    return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
  }

  before(async () => {
    repo = createTestRepo('shop');
    repo.commit({ 'README.md': 'shop' }, 'first');
    svc = await startTestService({
      specs: { shop: specFor('shop', repo.url, { secrets: ['secret', 'PIPED_KEY'] }), other: specFor('other', repo.url), fresh: specFor('fresh', repo.url), stranger: specFor('stranger', repo.url) },
      env: { NORN_API_TOKEN: 'secrets-token', SOPS_AGE_KEY_FILE: KEY_FILE },
    });
    env = { NORN_URL: svc.url, NORN_API_TOKEN: 'secrets-token' };
    fs.copyFileSync(SOPS('humphd-sops-age', 'secret.enc.yaml'), secretsFile());
    // Encrypted for other recipients: this receiver's identity cannot open it.
    fs.copyFileSync(SOPS('sops-upstream', 'example.enc.yaml'), secretsFile('other'));
  });
  after(async () => {
    await svc?.close();
    repo?.remove();
  });

  it('sets a new key from a pipe: one line out, the file decrypts with it, the rest of the file unchanged', async () => {
    const original = fs.readFileSync(secretsFile(), 'utf8');
    const r = await cli(secretsSetCommandWith({ input: piped(`${PIPED}\n`) }), ['shop', 'PIPED_KEY']);
    expect(r.code, r.err).to.equal(0);
    const file = fs.realpathSync(secretsFile());
    expect(r.out).to.match(new RegExp(`^PIPED_KEY added to ${file} \\(saga [0-9a-f-]{36}\\)\\n$`));
    expect(r.err).to.equal("note: takes effect on shop's next deploy (norn deploy shop)\n");
    expect(await decrypted()).to.include({ secret: 'this is a secret', PIPED_KEY: PIPED });
    const lines = (text: string) => text.split('\n').filter((l) => !/^\s*(lastmodified|mac):/.test(l) && !l.startsWith('PIPED_KEY: '));
    expect(lines(fs.readFileSync(secretsFile(), 'utf8'))).to.deep.equal(lines(original));

    const keys = await cli(secretsCommand, ['keys', 'shop']);
    expect(keys.out.split('\n')).to.include('PIPED_KEY');
  });

  it('records the edit as an operation saga that names the key', async () => {
    const r = await cli(secretsSetCommandWith({ input: piped(`${PIPED}-2`) }), ['shop', 'PIPED_KEY']);
    const sagaId = /\(saga ([0-9a-f-]{36})\)/.exec(r.out)![1]!;
    const { json } = await api('GET', `/api/sagas/${sagaId}`);
    const events = json.events as { action: string; message: string; metadata: Record<string, unknown> }[];
    expect(events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.complete']);
    expect(events[0]!.message).to.equal('secrets set: set PIPED_KEY in secrets.enc.yaml');
    expect(events[0]!.metadata).to.include({ verb: 'secrets set', key: 'PIPED_KEY' });
    expect(events[1]!.message).to.equal('PIPED_KEY changed in secrets.enc.yaml');
    expect(await decrypted()).to.include({ PIPED_KEY: `${PIPED}-2` });
  });

  it('asks twice on a terminal, and changes nothing when the two differ', async () => {
    const before = fs.readFileSync(secretsFile(), 'utf8');
    const differ = await cli(secretsSetCommandWith({ input: typed(TYPED, `${TYPED}x`) }), ['shop', 'TYPED_KEY']);
    expect(differ.code).to.equal(2);
    expect(differ.err).to.match(/^norn: the two values typed differ; nothing was changed\n/);
    expect(fs.readFileSync(secretsFile(), 'utf8')).to.equal(before);

    const same = await cli(secretsSetCommandWith({ input: typed(TYPED, TYPED) }), ['shop', 'TYPED_KEY']);
    expect(same.code, same.err).to.equal(0);
    expect(same.err).to.contain("note: TYPED_KEY is not in shop's spec secrets list; it is passed as env all the same");
    expect(await decrypted()).to.include({ TYPED_KEY: TYPED });
  });

  it('refuses a value on the command line', async () => {
    const r = await cli(secretsSetCommandWith({ input: piped('unused') }), ['shop', 'ARGV_KEY', 'on-the-command-line']);
    expect(r.code).to.equal(2);
    expect(r.err).to.match(/^norn: the value is read from stdin, never from the command line/);
  });

  it('the next deploy gives the task the new value', async () => {
    const { json } = await api('POST', '/api/apps/shop/deploy', {});
    const { sagaId } = (json.deploys as { sagaId: string }[])[0]!;
    await eventually('the deploy to end', async () => {
      const { json: saga } = await api('GET', `/api/sagas/${sagaId}`);
      const { status, error } = saga.saga as { status: string; error: string | null };
      if (status === 'failed') throw new Error(`deploy failed: ${error}`);
      return status === 'succeeded' ? true : undefined;
    });
    expect(svc.nomad.job('shop')!.TaskGroups[0]!.Tasks[0]!.Env).to.include({ PIPED_KEY: `${PIPED}-2`, TYPED_KEY: TYPED });
  });

  it('answers the API with the key and outcome, never the value; bad input is refused naming the field', async () => {
    const ok = await api('PUT', '/api/apps/shop/secrets/BY_API', { value: BY_API });
    expect(ok.status).to.equal(200);
    expect(ok.json).to.include({ app: 'shop', key: 'BY_API', outcome: 'added' });
    expect(await decrypted()).to.include({ BY_API });

    const refusals: [string, string, unknown, number, string][] = [
      ['PUT', '/api/apps/shop/secrets/1BAD', { value: BY_API }, 400, 'key'],
      ['PUT', '/api/apps/shop/secrets/sops', { value: BY_API }, 400, 'key'],
      ['PUT', '/api/apps/shop/secrets/OK_NAME', { value: '' }, 400, 'value'],
      ['PUT', '/api/apps/shop/secrets/OK_NAME', { value: 42 }, 400, 'value'],
      ['PUT', '/api/apps/shop/secrets/OK_NAME', {}, 400, 'value'],
      ['PUT', '/api/apps/shop/secrets/OK_NAME', { value: `${BY_API}\0` }, 400, 'value'],
      ['DELETE', '/api/apps/shop/secrets/NOT_THERE', undefined, 404, 'key'],
      ['PUT', '/api/apps/other/secrets/OK_NAME', { value: BY_API }, 409, 'secrets'],
    ];
    for (const [method, url, body, status, field] of refusals) {
      const r = await api(method, url, body);
      expect(r.status, `${method} ${url}`).to.equal(status);
      expect(r.json.field, `${method} ${url}`).to.equal(field);
    }
    const unknown = await api('PUT', '/api/apps/nope/secrets/OK_NAME', { value: BY_API });
    expect(unknown).to.deep.equal({ status: 404, json: { error: 'app nope not found' } });
    const wrongKey = await api('PUT', '/api/apps/other/secrets/OK_NAME', { value: BY_API });
    expect(wrongKey.json.error).to.match(/^secrets: secrets\.enc\.yaml: no age identity matched the file's recipients \(age1yt3tfqlf/);
    const anonymous = await fetch(`${svc.url}/api/apps/shop/secrets/OK_NAME`, { method: 'PUT', body: JSON.stringify({ value: BY_API }), headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).to.equal(401);
    expect(await decrypted()).not.to.have.property('OK_NAME');
  });

  it('keeps every edit when several arrive at once', async () => {
    const names = ['C1', 'C2', 'C3', 'C4', 'C5'];
    const answers = await Promise.all(names.map((name) => api('PUT', `/api/apps/shop/secrets/${name}`, { value: `${BY_API}-${name}` })));
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200]);
    expect(await decrypted()).to.include(Object.fromEntries(names.map((name) => [name, `${BY_API}-${name}`])));
    expect(fs.readdirSync(path.dirname(secretsFile())).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).to.deep.equal([]);
  });

  it('deletes with --yes, refuses without a terminal to confirm on', async () => {
    const refused = await cli(secretsDeleteCommandWith({ confirmer: noTerminal }), ['shop', 'TYPED_KEY']);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.match(/^norn: refused: this would delete TYPED_KEY from shop's secrets file/);
    expect(await decrypted()).to.have.property('TYPED_KEY');

    const r = await cli(secretsDeleteCommandWith({ confirmer: noTerminal }), ['shop', 'TYPED_KEY', '--yes']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^TYPED_KEY deleted from .*secrets\.enc\.yaml \(saga [0-9a-f-]{36}\)\n$/);
    expect(await decrypted()).not.to.have.property('TYPED_KEY');

    const again = await cli(secretsDeleteCommandWith({ confirmer: noTerminal }), ['shop', 'TYPED_KEY', '--yes']);
    expect(again.code).to.equal(1);
    expect(again.err).to.equal("norn: key: TYPED_KEY is not in shop's secrets.enc.yaml; nothing was deleted\n");
  });

  it('creates the file from .sops.yaml when the app has none, and says when .sops.yaml names other recipients', async () => {
    const none = await api('PUT', '/api/apps/fresh/secrets/FIRST', { value: BY_API });
    expect(none.status).to.equal(404);
    expect(none.json.error).to.contain('add a .sops.yaml with a creation rule naming its age recipients');

    const ours = await identityToRecipient((await loadAgeIdentities({ SOPS_AGE_KEY_FILE: KEY_FILE }))[0]!);
    const stranger = await identityToRecipient(await generateIdentity());
    fs.writeFileSync(path.join(svc.appsDir, 'fresh', '.sops.yaml'), `creation_rules:\n  - path_regex: secrets\\.enc\\.yaml$\n    age: ${ours},${stranger}\n`);
    const created = await api('PUT', '/api/apps/fresh/secrets/FIRST', { value: `${BY_API}-first` });
    expect(created.status, JSON.stringify(created.json)).to.equal(200);
    expect(created.json).to.include({ outcome: 'added' });
    expect(created.json.notes).to.deep.include(`created secrets.enc.yaml, encrypted to the recipients of .sops.yaml's creation rule: ${ours}, ${stranger}`);
    const file = path.join(svc.appsDir, 'fresh', 'secrets.enc.yaml');
    expect((await decryptSopsFile(file, await loadAgeIdentities({ SOPS_AGE_KEY_FILE: KEY_FILE }))).data).to.deep.equal({ FIRST: `${BY_API}-first` });

    fs.writeFileSync(path.join(svc.appsDir, 'fresh', '.sops.yaml'), `creation_rules:\n  - age: ${ours}\n`);
    const drifted = await api('PUT', '/api/apps/fresh/secrets/SECOND', { value: `${BY_API}-second` });
    expect(drifted.json.notes).to.deep.include(`the file is encrypted to ${ours}, ${stranger} but .sops.yaml's rule names ${ours}; the file's own recipients were kept (sops updatekeys re-encrypts it for the rule's)`);

    fs.writeFileSync(path.join(svc.appsDir, 'stranger', '.sops.yaml'), `creation_rules:\n  - age: ${stranger}\n`);
    const unreadable = await api('PUT', '/api/apps/stranger/secrets/FIRST', { value: BY_API });
    expect(unreadable.status).to.equal(409);
    expect(unreadable.json.error).to.contain(`the receiver's age identities (${ours}) are not among them, so the receiver could not read the file`);
    expect(fs.existsSync(path.join(svc.appsDir, 'stranger', 'secrets.enc.yaml'))).to.equal(false);
  });

  it('never shows a value: not in the log, the saga feed, an answer, an error or the terminal', async () => {
    const { json } = await api('GET', '/api/events?limit=1000');
    const feed = JSON.stringify(json);
    expect(feed).to.contain('PIPED_KEY').and.to.contain('operation.failed');
    for (const value of [PIPED, TYPED, BY_API]) {
      expect(feed, 'saga feed').not.to.contain(value);
      expect(svc.logLines.join('\n'), 'log').not.to.contain(value);
      expect(printed.join('\n'), 'terminal and API answers').not.to.contain(value);
    }
  });
});
