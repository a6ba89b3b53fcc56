// GitLab webhooks: X-Gitlab-Event names the hook ("Push Hook", "Tag Push Hook", "Merge Request Hook"), and
// X-Gitlab-Token carries the configured secret itself (GitLab does not sign bodies).
// https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers
// https://docs.gitlab.com/user/project/integrations/webhook_events/
import { z } from 'zod';
import { headerValue, readJsonBody } from './delivery-input.js';
import { defineForgeAdapter } from './define-forge-adapter.js';
import {
  branchField,
  commitsField,
  displayNameField,
  distinctUrls,
  fullNameField,
  headCommitOf,
  ignored,
  isZeroSha,
  nameField,
  parsePayload,
  refField,
  shaField,
  urlField,
  webBaseOf,
  type DeliveryMeta,
} from './payload-fields.js';
import { signatureMismatch, signatureMissing, tokensMatch } from './signature.js';
import type { ForgeAdapter } from './forge-adapter.js';
import type { PullRequestEvent, PushEvent, RepositoryRef } from './parsed-delivery.js';

const projectField = z
  .object({
    path_with_namespace: fullNameField,
    web_url: urlField.nullish(),
    git_http_url: urlField.nullish(),
    git_ssh_url: urlField.nullish(),
  })
  .refine((p) => p.web_url || p.git_http_url || p.git_ssh_url, 'has no clone, ssh or web URL');

const pushPayload = z.object({
  ref: refField,
  before: shaField,
  after: shaField,
  checkout_sha: shaField.nullish(),
  user_username: nameField.nullish(),
  user_name: displayNameField.nullish(),
  project: projectField,
  commits: commitsField,
});

const mergeRequestPayload = z.object({
  project: projectField,
  object_attributes: z.object({
    iid: z.number().int().positive(),
    action: nameField.nullish(),
    target_branch: branchField,
    source_branch: branchField,
    last_commit: z.object({ id: shaField }),
  }),
});

function toRepositoryRef(project: z.output<typeof projectField>): RepositoryRef {
  const webUrl = webBaseOf(project.web_url, project.path_with_namespace);
  return {
    fullName: project.path_with_namespace,
    urls: distinctUrls([project.git_http_url, project.git_ssh_url, project.web_url]),
    ...(webUrl ? { webUrl } : {}),
  };
}

/** A GitLab push or tag push body as a PushEvent; throws WebhookRejectedError(400) naming a bad field. */
export function toGitlabPushEvent(body: unknown, meta: DeliveryMeta): PushEvent {
  const push = parsePayload(pushPayload, body);
  const deleted = isZeroSha(push.after);
  // checkout_sha is the commit; for an annotated tag `after` is the tag object.
  const after = deleted ? push.after : (push.checkout_sha ?? push.after);
  return {
    kind: 'push',
    forge: meta.forge,
    deliveryId: meta.deliveryId,
    repository: toRepositoryRef(push.project),
    ref: push.ref,
    before: push.before,
    after,
    deleted,
    headCommitMessage: headCommitOf(push.commits, after)?.message ?? '',
    author: push.user_username ?? push.user_name ?? '',
    commits: push.commits,
  };
}

/** A GitLab merge request body as a PullRequestEvent (number = the project-scoped iid). */
export function toGitlabMergeRequestEvent(body: unknown, meta: DeliveryMeta): PullRequestEvent {
  const mr = parsePayload(mergeRequestPayload, body);
  const attrs = mr.object_attributes;
  return {
    kind: 'pull_request',
    forge: meta.forge,
    deliveryId: meta.deliveryId,
    repository: toRepositoryRef(mr.project),
    // GitLab omits `action` when a merge request is changed without a state transition.
    action: attrs.action ?? 'update',
    number: attrs.iid,
    baseBranch: attrs.target_branch,
    headSha: attrs.last_commit.id,
    headRef: attrs.source_branch,
  };
}

export function createGitlabAdapter(): ForgeAdapter {
  return defineForgeAdapter({
    name: 'gitlab',
    event: { label: 'X-Gitlab-Event', names: ['x-gitlab-event'] },
    // Idempotency-Key (GitLab 17.4+) is one per delivery and kept across retries: what the ledger's duplicate
    // check wants. X-Gitlab-Event-UUID is GitLab's recursion marker, shared by every hook fired from one
    // request or job, and X-Gitlab-Webhook-UUID is new on each attempt, so both are only fallbacks.
    delivery: {
      label: 'Idempotency-Key or X-Gitlab-Event-UUID',
      names: ['idempotency-key', 'x-gitlab-event-uuid', 'x-gitlab-webhook-uuid'],
    },

    verify(delivery, secret) {
      const token = headerValue(delivery, ['x-gitlab-token']);
      if (!token) throw signatureMissing('X-Gitlab-Token');
      if (!tokensMatch(token, secret)) throw signatureMismatch('X-Gitlab-Token');
    },

    convert(event, delivery, meta) {
      switch (event) {
        case 'Push Hook':
        case 'Tag Push Hook':
          return toGitlabPushEvent(readJsonBody(delivery), meta);
        case 'Merge Request Hook':
          return toGitlabMergeRequestEvent(readJsonBody(delivery), meta);
        default:
          return ignored(meta, event, `gitlab event "${event}" does not trigger deploys`);
      }
    },
  });
}
