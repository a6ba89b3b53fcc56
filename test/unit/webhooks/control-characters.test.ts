// Terminal escapes in webhook payloads (issue 14 item 7): identity fields that carry a control character are
// refused at parse time (400 naming the field); free text (commit messages, display names) keeps its words with
// each control character replaced by U+FFFD.
import { expect } from 'chai';
import { WebhookRejectedError } from '../../../src/errors.js';
import { toPushEvent } from '../../../src/webhooks/github-style-payload.js';
import { toGenericPushEvent } from '../../../src/webhooks/generic.js';
import { toGitlabPushEvent } from '../../../src/webhooks/gitlab.js';

const TERMINAL_ATTACK = '\u001b[2J\u001b]0;PWNED\u0007';
const SHA = 'a'.repeat(40);
const meta = { forge: 'github' as const, deliveryId: 'd-1' };

function githubPush(overrides: { fullName?: string; cloneUrl?: string; message?: string; login?: string; name?: string }) {
  return {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: SHA,
    head_commit: { id: SHA, message: overrides.message ?? 'fix', added: [], removed: [], modified: [] },
    commits: [],
    repository: { full_name: overrides.fullName ?? 'acme/shop', clone_url: overrides.cloneUrl ?? 'https://github.com/acme/shop.git' },
    pusher: { login: overrides.login, name: overrides.name ?? 'Jane' },
  };
}

function rejection(run: () => unknown): WebhookRejectedError {
  try {
    run();
  } catch (err) {
    if (err instanceof WebhookRejectedError) return err;
    throw err;
  }
  throw new Error('expected the payload to be refused');
}

describe('control characters in webhook payloads', () => {
  it('refuses them in the repository full name, naming the field', () => {
    const err = rejection(() => toPushEvent(githubPush({ fullName: `acme/shop${TERMINAL_ATTACK}` }), meta));
    expect(err.status).to.equal(400);
    expect(err.reason).to.match(/repository\.full_name: must not contain control characters/);
  });

  it('refuses them in repository URLs and logins', () => {
    expect(rejection(() => toPushEvent(githubPush({ cloneUrl: `https://github.com/acme/shop${TERMINAL_ATTACK}.git` }), meta)).reason).to.match(/repository\.clone_url/);
    expect(rejection(() => toPushEvent(githubPush({ login: `eve${TERMINAL_ATTACK}` }), meta)).reason).to.match(/pusher\.login/);
  });

  it('refuses them in GitLab project paths and the generic hook repository URL', () => {
    const gitlab = {
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: SHA,
      project: { path_with_namespace: `acme/shop${TERMINAL_ATTACK}`, git_http_url: 'https://gitlab.com/acme/shop.git' },
      commits: [],
    };
    expect(rejection(() => toGitlabPushEvent(gitlab, { forge: 'gitlab', deliveryId: 'g' })).reason).to.match(/project\.path_with_namespace/);
    const generic = { ref: 'refs/heads/main', before: '0'.repeat(40), after: SHA, repository: { url: `ssh://host/srv/x${TERMINAL_ATTACK}.git` }, commits: [] };
    expect(rejection(() => toGenericPushEvent(generic, { forge: 'generic', deliveryId: 'n' })).reason).to.match(/repository\.url/);
  });

  it('keeps commit messages and display names, with controls replaced and line breaks kept', () => {
    const event = toPushEvent(githubPush({ message: `fix the build${TERMINAL_ATTACK}\n\nbody\tline`, name: `Jane${TERMINAL_ATTACK}` }), meta);
    expect(event.headCommitMessage).to.equal('fix the build\uFFFD[2J\uFFFD]0;PWNED\uFFFD\n\nbody\tline');
    expect(event.author).to.equal('Jane\uFFFD[2J\uFFFD]0;PWNED\uFFFD');
  });
});
