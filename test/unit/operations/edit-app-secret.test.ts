// The secrets verb's policy on a real sops-made file in a temp app dir: what it refuses before touching anything,
// and that a file someone else changed while it worked is left as they wrote it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { LoadedApp } from '../../../src/apps/load-app-specs.js';
import { InvalidInputError } from '../../../src/errors.js';
import type { NewSagaEvent } from '../../../src/events/saga-event.js';
import { AppSecretEditor, type AppSecretEditorDeps } from '../../../src/operations/edit-app-secret.js';
import { fixturesDir } from '../../support/fixtures-dir.js';

const SOPS = path.join(fixturesDir(), 'sops', 'humphd-sops-age');

describe('AppSecretEditor', function () {
  let dir: string;
  let events: NewSagaEvent[];
  let learned: string[];

  const editor = (extra: Partial<AppSecretEditorDeps> = {}) => {
    const app = { name: 'shop', dir, file: path.join(dir, 'infraspec.yaml'), spec: { secrets: [] }, warnings: [] } as unknown as LoadedApp;
    return new AppSecretEditor({
      catalog: { get: (name) => (name === 'shop' ? app : undefined) },
      sagaLog: { append: async (e) => (events.push(e), { ...e, id: String(events.length), seq: events.length, timestamp: '' }) },
      ageKeys: { SOPS_AGE_KEY_FILE: path.join(SOPS, 'key.txt') },
      onValue: (value) => learned.push(value),
      ...extra,
    });
  };
  const refused = async (run: Promise<unknown>) => {
    const err = await run.then(() => expect.fail('should refuse'), (e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidInputError);
    return err as InvalidInputError;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-secret-edit-'));
    fs.copyFileSync(path.join(SOPS, 'secret.enc.yaml'), path.join(dir, 'secrets.enc.yaml'));
    events = [];
    learned = [];
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses bad names and values before any saga, never quoting the value', async () => {
    const original = fs.readFileSync(path.join(dir, 'secrets.enc.yaml'), 'utf8');
    for (const [key, value, field] of [['9LIVES', 'v-a-l-u-e', 'key'], ['A-B', 'v-a-l-u-e', 'key'], ['sops', 'v-a-l-u-e', 'key'], ['OK', '', 'value'], ['OK', 'x'.repeat(32 * 1024 + 1), 'value'], ['OK', 7, 'value']] as const) {
      const err = await refused(editor().set('shop', key, value));
      expect(err.field).to.equal(field);
      if (typeof value === 'string' && value !== '') expect(err.message).not.to.contain(value);
    }
    expect(events).to.deep.equal([]);
    expect(learned).to.deep.equal([]);
    expect(fs.readFileSync(path.join(dir, 'secrets.enc.yaml'), 'utf8')).to.equal(original);
  });

  it('refuses a secrets file in another format than YAML', async () => {
    fs.rmSync(path.join(dir, 'secrets.enc.yaml'));
    fs.copyFileSync(path.join(SOPS, 'secret.enc.json'), path.join(dir, 'secrets.enc.json'));
    const err = await refused(editor().set('shop', 'KEY', 'v-a-l-u-e'));
    expect(err).to.include({ status: 409, message: 'secrets: secrets.enc.json is not YAML; norn edits secrets.enc.yaml files only, so edit this one with sops' });
  });

  it('leaves a file that changed while it worked as the other writer left it, and records the failure', async () => {
    const file = path.join(dir, 'secrets.enc.yaml');
    const theirs = `${fs.readFileSync(file, 'utf8')}# edited by someone running sops\n`;
    const err = await refused(editor({ now: () => (fs.writeFileSync(file, theirs), new Date()) }).set('shop', 'KEY', 'v-a-l-u-e'));
    expect(err).to.include({ status: 409, message: 'secrets: secrets.enc.yaml changed while it was being edited; nothing was written, try again' });
    expect(fs.readFileSync(file, 'utf8')).to.equal(theirs);
    expect(events.map((e) => e.action)).to.deep.equal(['operation.start', 'operation.failed']);
    expect(learned).to.deep.equal(['v-a-l-u-e']);
  });
});
