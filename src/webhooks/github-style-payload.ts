// Pure converters for the payload shape GitHub defined and Gitea, Forgejo and Gogs copied: push and
// pull_request bodies carry the same fields we read, so both adapters share these and a fix reaches all.
// https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
import { z } from 'zod';
import type { PullRequestEvent, PushEvent, RepositoryRef } from './parsed-delivery.js';
import {
  branchField,
  commitField,
  commitsField,
  displayNameField,
  distinctUrls,
  fullNameField,
  headCommitOf,
  isZeroSha,
  nameField,
  parsePayload,
  refField,
  shaField,
  urlField,
  webBaseOf,
  type DeliveryMeta,
} from './payload-fields.js';

const repositoryField = z
  .object({
    full_name: fullNameField,
    clone_url: urlField.nullish(),
    ssh_url: urlField.nullish(),
    html_url: urlField.nullish(),
    git_url: urlField.nullish(),
  })
  .refine((repo) => repo.clone_url || repo.ssh_url || repo.html_url, 'has no clone, ssh or web URL');

const userField = z
  .object({ login: nameField.nullish(), username: nameField.nullish(), name: displayNameField.nullish() })
  .nullish();

const pushPayload = z.object({
  ref: refField,
  before: shaField,
  after: shaField,
  deleted: z.boolean().nullish(),
  head_commit: commitField.nullish(),
  commits: commitsField,
  repository: repositoryField,
  pusher: userField,
  sender: userField,
});

const pullRequestPayload = z.object({
  action: nameField,
  number: z.number().int().positive(),
  pull_request: z.object({
    base: z.object({ ref: branchField }),
    head: z.object({ sha: shaField, ref: branchField }),
  }),
  repository: repositoryField,
});

function toRepositoryRef(repo: z.output<typeof repositoryField>): RepositoryRef {
  const webUrl = webBaseOf(repo.html_url, repo.full_name);
  return {
    fullName: repo.full_name,
    urls: distinctUrls([repo.clone_url, repo.ssh_url, repo.html_url, repo.git_url]),
    ...(webUrl ? { webUrl } : {}),
  };
}

/** A GitHub-shaped push body as a PushEvent; throws WebhookRejectedError(400) naming a bad field. */
export function toPushEvent(body: unknown, meta: DeliveryMeta): PushEvent {
  const push = parsePayload(pushPayload, body);
  const deleted = push.deleted === true || isZeroSha(push.after);
  // For an annotated tag `after` is the tag object; head_commit is the commit it points at, which is
  // what a deploy pins and what a commit status must name.
  const after = deleted ? push.after : (push.head_commit?.id ?? push.after);
  const head = push.head_commit ?? headCommitOf(push.commits, after);
  const who = push.pusher ?? push.sender;
  return {
    kind: 'push',
    forge: meta.forge,
    deliveryId: meta.deliveryId,
    repository: toRepositoryRef(push.repository),
    ref: push.ref,
    before: push.before,
    after,
    deleted,
    headCommitMessage: head?.message ?? '',
    author: who?.login ?? who?.username ?? who?.name ?? '',
    commits: push.commits,
  };
}

/** A GitHub-shaped pull_request body as a PullRequestEvent; throws WebhookRejectedError(400) on a bad field. */
export function toPullRequestEvent(body: unknown, meta: DeliveryMeta): PullRequestEvent {
  const pr = parsePayload(pullRequestPayload, body);
  return {
    kind: 'pull_request',
    forge: meta.forge,
    deliveryId: meta.deliveryId,
    repository: toRepositoryRef(pr.repository),
    action: pr.action,
    number: pr.number,
    baseBranch: pr.pull_request.base.ref,
    headSha: pr.pull_request.head.sha,
    headRef: pr.pull_request.head.ref,
  };
}
