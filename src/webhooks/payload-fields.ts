// The zod shapes of the payload fields adapters read, with the limits every forge's input must meet, and the
// normalizing helpers the converters share. Only fields we read are declared; the rest is dropped unchecked.
import { z } from 'zod';
import { WebhookRejectedError } from '../errors.js';
import type { ForgeName } from './forge-adapter.js';
import type { Ignored, PushCommit } from './parsed-delivery.js';
import { hasControlCharacters } from '../text/control-characters.js';

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;
/** Characters git forbids in a ref name (plus whitespace), see git-check-ref-format(1). */
const REF_NAME = String.raw`[^\s\p{Cc}~^:?*[\\]+`;
const GIT_REF = new RegExp(`^refs/(heads|tags)/${REF_NAME}$`, 'u');
const BRANCH_NAME = new RegExp(`^${REF_NAME}$`, 'u');
const NO_WHITESPACE = /^\S+$/;

/** Lengths far above anything a real forge sends, so an oversized field is rejected rather than stored. */
export const LIMITS = { ref: 1024, url: 2048, name: 256, path: 4096, files: 10_000, commits: 2048 } as const;
/** Commit messages are cut, not rejected: a long message is legitimate, storing it whole is not useful. */
const MAX_MESSAGE = 10_000;

export const shaField = z
  .string()
  .regex(SHA, 'must be a 40 or 64 character hex SHA')
  .transform((sha) => sha.toLowerCase());

export const refField = z
  .string()
  .max(LIMITS.ref)
  .regex(GIT_REF, 'must be refs/heads/<branch> or refs/tags/<tag>')
  .refine((ref) => !/\.\.|\/\/|@\{|\/$|\.lock$/.test(ref), 'is not a valid git ref');

/** A bare branch name as pull requests carry it (e.g. "main"), under the same limits as a ref. */
export const branchField = z
  .string()
  .min(1)
  .max(LIMITS.ref)
  .regex(BRANCH_NAME, 'is not a valid branch name');

// Control characters: identity fields (repository names, URLs, refs, logins) that carry one are refused, since
// they are shown in terminals, logs and the dashboard and a legitimate forge never sends them; free text (commit
// messages, display names) is kept with each control character but newline and tab replaced by U+FFFD.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const NO_CONTROL = 'must not contain control characters';

/** Free text with terminal controls replaced (newlines and tabs kept). */
function withoutControls(text: string): string {
  return text.replace(CONTROL_BUT_LAYOUT, '\uFFFD');
}

export const urlField = z.string().max(LIMITS.url).regex(NO_WHITESPACE, 'must not contain whitespace').refine((v) => !hasControlCharacters(v), NO_CONTROL);
/** A login, user name or action: an identity, so control characters are refused. */
export const nameField = z.string().max(LIMITS.name).refine((v) => !hasControlCharacters(v), NO_CONTROL);
/** A person's display name: free text, control characters replaced. */
export const displayNameField = z.string().max(LIMITS.name).transform(withoutControls);
/** "owner/name", or "group/subgroup/name" on GitLab. */
export const fullNameField = nameField.regex(/^[^\s/]+(\/[^\s/]+)+$/, 'must look like owner/name');
export const messageField = z.string().transform((text) => withoutControls(text.slice(0, MAX_MESSAGE)));

const filesField = z
  .array(z.string().max(LIMITS.path))
  .max(LIMITS.files)
  .nullish()
  .transform((files) => files ?? []);

export const commitField = z.object({
  id: shaField,
  message: messageField,
  added: filesField,
  removed: filesField,
  modified: filesField,
});

export const commitsField = z
  .array(commitField)
  .max(LIMITS.commits)
  .nullish()
  .transform((commits): PushCommit[] => commits ?? []);

/** Parses `value` with `schema`; throws WebhookRejectedError(400) naming the first offending field. */
export function parsePayload<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(body)';
  throw new WebhookRejectedError(400, `invalid payload field ${field}: ${issue?.message ?? 'malformed'}`);
}

export function isZeroSha(sha: string): boolean {
  return /^0+$/.test(sha);
}

/**
 * The commit a push points at: the one whose id is `sha`, else the last listed. GitHub and GitLab list commits
 * oldest first; Gitea lists them newest first, which the id match covers.
 */
export function headCommitOf(commits: readonly PushCommit[], sha: string): PushCommit | undefined {
  return commits.find((commit) => commit.id === sha) ?? commits.at(-1);
}

/** The forge's web base: the repository's web URL without its trailing "/owner/name". */
export function webBaseOf(webUrl: string | undefined | null, fullName: string): string | undefined {
  const suffix = `/${fullName}`;
  const trimmed = webUrl?.replace(/\/+$/, '');
  return trimmed?.endsWith(suffix) ? trimmed.slice(0, -suffix.length) : undefined;
}

/** The URLs worth matching on, without blanks and repeats, in the order given. */
export function distinctUrls(urls: readonly (string | null | undefined)[]): string[] {
  return [...new Set(urls.filter((url): url is string => typeof url === 'string' && url.length > 0))];
}

/** What every converter needs besides the payload: which forge, and the delivery id from the headers. */
export interface DeliveryMeta {
  readonly forge: ForgeName;
  readonly deliveryId: string;
}

export function ignored(meta: DeliveryMeta, event: string, reason: string): Ignored {
  return { kind: 'ignored', forge: meta.forge, deliveryId: meta.deliveryId, event, reason };
}
