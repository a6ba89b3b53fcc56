// `secrets set` and `secrets delete`: an operator changes one value of an app's secrets file on the receiver, and
// the next deploy passes it to the app. Policy lives here: which app (one the catalog knows), which file (the one
// a deploy decrypts, beside the infraspec), which names (env-var names, never `sops`), which values (non-empty
// text), one edit at a time per app (a lock file, so a second receiver on the same apps dir waits too), and the
// file replaced atomically. The SOPS work itself is integrations/sops/edit-sops-yaml.ts.
//
// The value travels only from the request into the sealed file: the saga, the answer and every error name the key
// alone, and the redactor learns the value as soon as it is checked, so a later echo of it is masked too.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { identityToRecipient } from 'age-encryption';
import type { AppCatalog } from '../apps/app-catalog.js';
import { isAppName } from '../apps/infraspec-schema.js';
import type { LoadedApp } from '../apps/load-app-specs.js';
import { InvalidInputError, NotFoundError } from '../errors.js';
import type { SagaLog } from '../events/saga-log.js';
import { FileLock, LockTimeoutError } from '../files/file-lock.js';
import { writeFileAtomic } from '../files/write-file-atomic.js';
import { type AgeKeyEnv, loadAgeIdentities } from '../integrations/sops/age-identities.js';
import { emptySopsYaml } from '../integrations/sops/create-sops-yaml.js';
import { editSopsYaml, type SopsEdit, type SopsEditOutcome } from '../integrations/sops/edit-sops-yaml.js';
import { creationRuleFor } from '../integrations/sops/sops-config.js';
import { SopsError } from '../integrations/sops/sops-error.js';
import { findSecretsFile, SECRETS_FILE_NAMES } from '../apps/app-secrets.js';
import { recordOperation } from './operation-saga.js';

/** What a shell can pass as a variable name; `sops` is the metadata block of the file, never a value. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
/** Far above any env value; keeps the file, the task env and the request small. */
export const MAX_SECRET_BYTES = 32 * 1024;

export interface SecretEditAnswer {
  readonly app: string;
  readonly key: string;
  /** The secrets file, as a path on the receiver. */
  readonly file: string;
  readonly outcome: SopsEditOutcome;
  readonly sagaId: string;
  /** What the operator should know: when it takes effect, and names the spec expects. */
  readonly notes: readonly string[];
}

export interface AppSecretEditorDeps {
  readonly catalog: Pick<AppCatalog, 'get'>;
  readonly sagaLog: Pick<SagaLog, 'append'>;
  /** SOPS_AGE_KEY_FILE / SOPS_AGE_KEY: the identities that open the file's data key. */
  readonly ageKeys: AgeKeyEnv;
  /** Learns each value set (the service's redactor). */
  readonly onValue?: (value: string) => void;
  readonly now?: () => Date;
  /** How long an edit waits for another one on the same app (default 10 s). */
  readonly lockTimeoutMs?: number;
}

export class AppSecretEditor {
  private readonly lock: FileLock;

  constructor(private readonly deps: AppSecretEditorDeps) {
    const timeoutMs = deps.lockTimeoutMs ?? 10_000;
    this.lock = new FileLock({ timeoutMs, staleMs: Math.max(timeoutMs * 3, 30_000) });
  }

  /** Sets `key` to `value` (unknown input: checked here). */
  async set(appName: unknown, key: unknown, value: unknown): Promise<SecretEditAnswer> {
    const app = this.appOf(appName);
    const name = checkKey(key);
    const text = checkValue(value);
    this.deps.onValue?.(text);
    return this.edit(app, { op: 'set', key: name, value: text });
  }

  async delete(appName: unknown, key: unknown): Promise<SecretEditAnswer> {
    return this.edit(this.appOf(appName), { op: 'delete', key: checkKey(key) });
  }

  private appOf(name: unknown): LoadedApp {
    const app = typeof name === 'string' && isAppName(name) ? this.deps.catalog.get(name) : undefined;
    if (!app) throw new NotFoundError('app', String(name).slice(0, 64));
    return app;
  }

  private async edit(app: LoadedApp, edit: SopsEdit): Promise<SecretEditAnswer> {
    const existing = await findSecretsFile(app.dir);
    if (existing && !/\.ya?ml$/.test(existing)) {
      throw new InvalidInputError('secrets', `${path.basename(existing)} is not YAML; norn edits secrets.enc.yaml files only, so edit this one with sops`, 409);
    }
    const config = await findSopsConfig(app.dir);
    if (!existing && (edit.op === 'delete' || !config)) {
      const create = edit.op === 'set' ? `; create ${path.join(app.dir, 'secrets.enc.yaml')} with sops, or add a .sops.yaml with a creation rule naming its age recipients (beside the infraspec or in the apps dir) and norn creates it` : '';
      throw new InvalidInputError('secrets', `${app.name} has no secrets file (${SECRETS_FILE_NAMES.join(', ')} beside its infraspec)${create}`, 404);
    }
    const file = existing ?? path.join(app.dir, 'secrets.enc.yaml');
    const name = path.basename(file);
    const verb = edit.op === 'set' ? 'secrets set' : 'secrets delete';
    const { sagaId, result } = await recordOperation(
      this.deps.sagaLog,
      { app: app.name, verb, summary: `${edit.op} ${edit.key} in ${name}`, metadata: { key: edit.key, file: name } },
      async () => {
        const result = await this.lock.withLock(path.join(app.dir, '.secrets.enc.lock'), () => this.rewrite(file, edit, config)).catch((err: unknown) => {
          if (err instanceof LockTimeoutError) throw new InvalidInputError('secrets', `another edit of ${app.name}'s secrets is still running (${err.holder}); nothing was changed, try again`, 409);
          throw err;
        });
        if (result.outcome === 'absent') throw new InvalidInputError('key', `${edit.key} is not in ${app.name}'s ${name}; nothing was deleted`, 404);
        const message = `${describe(result.outcome, edit.key, name)}${result.created ? ` (created, encrypted to ${result.recipients.join(', ')})` : ''}`;
        return { message, metadata: { key: edit.key, outcome: result.outcome, created: result.created }, result };
      },
    );
    const notes = [...(result.created ? [`created ${name}, encrypted to the recipients of .sops.yaml's creation rule: ${result.recipients.join(', ')}`] : []), ...notesFor(app, edit, result.outcome), ...recipientDrift(result.recipients, config)];
    return { app: app.name, key: edit.key, file, outcome: result.outcome, sagaId, notes };
  }

  /**
   * Read (or create from `.sops.yaml`), edit, write; under the lock. A file changed by someone else meanwhile is not
   * overwritten. An existing file keeps its data key and recipients, as sops keeps them; only a new file takes
   * its recipients from `.sops.yaml`.
   */
  private async rewrite(file: string, edit: SopsEdit, config: SopsConfigFile | undefined): Promise<{ outcome: SopsEditOutcome; recipients: readonly string[]; created: boolean }> {
    const identities = await operatorFixable(file, () => loadAgeIdentities(this.deps.ageKeys));
    const before = await operatorFixable(file, () => readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' && config ? undefined : Promise.reject(err))));
    const now = this.deps.now?.() ?? new Date();
    const start = before ?? (await operatorFixable(file, () => this.emptyFile(config!, identities, now)));
    const { text, outcome, recipients } = await operatorFixable(file, () => editSopsYaml(start, edit, identities, now));
    if (text === before) return { outcome, recipients, created: false };
    // The lock keeps out other receivers, not a person running sops: check nothing moved under us.
    if ((await readFile(file, 'utf8').catch(() => undefined)) !== before) {
      throw new InvalidInputError('secrets', `${path.basename(file)} changed while it was being edited; nothing was written, try again`, 409);
    }
    await operatorFixable(file, () => writeFileAtomic(file, text));
    return { outcome, recipients, created: before === undefined };
  }

  /** A file with no values for the creation rule's recipients, which must include the receiver, or it could not read it. */
  private async emptyFile(config: SopsConfigFile, identities: readonly string[], now: Date): Promise<string> {
    const rule = creationRuleFor(config.text, config.relativePath);
    if (!rule) throw new SopsError('malformed', `${config.file} has no creation_rules`);
    const ours = await Promise.all(identities.map((identity) => identityToRecipient(identity).catch(() => '')));
    if (!rule.recipients.some((recipient) => ours.includes(recipient))) {
      throw new SopsError('no-matching-identity', `.sops.yaml's creation rule encrypts to ${rule.recipients.join(', ')}, and the receiver's age identities (${ours.filter(Boolean).join(', ') || 'none: set SOPS_AGE_KEY_FILE'}) are not among them, so the receiver could not read the file; add its recipient to the rule`);
    }
    return emptySopsYaml(rule, now);
  }
}

interface SopsConfigFile {
  readonly file: string;
  readonly text: string;
  /** The secrets file's path from the config's dir, as creation rules' path_regex sees it. */
  readonly relativePath: string;
}

/** `.sops.yaml` beside the infraspec, else in the apps dir: sops's own search upwards, stopping at the apps dir. */
async function findSopsConfig(appDir: string): Promise<SopsConfigFile | undefined> {
  for (const [dir, relativePath] of [[appDir, 'secrets.enc.yaml'], [path.dirname(appDir), `${path.basename(appDir)}/secrets.enc.yaml`]] as const) {
    const file = path.join(dir, '.sops.yaml');
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return { file, text, relativePath };
  }
  return undefined;
}

/** When `.sops.yaml` names other recipients than the file has, say so: the file's own were kept, as sops keeps them. */
function recipientDrift(recipients: readonly string[], config: SopsConfigFile | undefined): string[] {
  if (!config) return [];
  let wanted: readonly string[] | undefined;
  try {
    wanted = creationRuleFor(config.text, config.relativePath)?.recipients;
  } catch (err) {
    return [`${config.file} could not be compared with the file's recipients: ${(err as Error).message}`];
  }
  if (!wanted || (wanted.length === recipients.length && wanted.every((r) => recipients.includes(r)))) return [];
  return [`the file is encrypted to ${recipients.join(', ')} but .sops.yaml's rule names ${wanted.join(', ')}; the file's own recipients were kept (sops updatekeys re-encrypts it for the rule's)`];
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !ENV_NAME.test(key)) {
    throw new InvalidInputError('key', 'must be an environment variable name: a letter or _, then letters, digits or _ (at most 256)');
  }
  if (key === 'sops') throw new InvalidInputError('key', "'sops' is the metadata block of a SOPS file; choose another name");
  return key;
}

/** Never quotes the value, not even part of it. */
function checkValue(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidInputError('value', 'must be a string');
  if (value === '') throw new InvalidInputError('value', 'is empty; to remove the key, delete it (norn secrets delete)');
  if (value.includes('\0')) throw new InvalidInputError('value', 'contains a NUL character, which no environment variable can hold');
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new InvalidInputError('value', `is longer than ${MAX_SECRET_BYTES} bytes`);
  return value;
}

/** A file the receiver cannot read, open or write is the operator's to fix: 409 with the reason. */
async function operatorFixable<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof SopsError) throw new InvalidInputError('secrets', `${path.basename(file)}: ${err.message}`, 409);
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'ENOENT'].includes(code)) {
      throw new InvalidInputError('secrets', `cannot ${code === 'ENOENT' ? 'find' : 'write'} ${file} (${code}); the receiver needs to read and write its app's dir`, 409);
    }
    throw err;
  }
}

function describe(outcome: SopsEditOutcome, key: string, file: string): string {
  switch (outcome) {
    case 'added':
      return `${key} added to ${file}`;
    case 'replaced':
      return `${key} changed in ${file}`;
    case 'unchanged':
      return `${key} already had that value in ${file}; nothing written`;
    case 'deleted':
      return `${key} deleted from ${file}`;
    case 'absent':
      return `${key} is not in ${file}; nothing deleted`;
  }
}

function notesFor(app: LoadedApp, edit: SopsEdit, outcome: SopsEditOutcome): string[] {
  const notes: string[] = [];
  if (outcome !== 'unchanged') notes.push(`takes effect on ${app.name}'s next deploy (norn deploy ${app.name})`);
  const expected = app.spec.secrets ?? [];
  if (edit.op === 'set' && expected.length > 0 && !expected.includes(edit.key)) notes.push(`${edit.key} is not in ${app.name}'s spec secrets list; it is passed as env all the same`);
  if (edit.op === 'delete' && expected.includes(edit.key)) notes.push(`${edit.key} is still in ${app.name}'s spec secrets list; deploys will warn that it is missing`);
  return notes;
}
