// Pushing a commit to a receiver the way a forge does (a signed GitHub push delivery) and following the saga it
// queued, for tests on an in-process TestService and on a ChildReceiver alike.
import { expect } from 'chai';
import type { TestRepo } from './git-repos.js';
import { githubPush, post } from './signed-delivery.js';
import { eventually, TEST_SECRET } from './test-service.js';

/** Where a receiver answers and the token it wants: a TestService and a ChildReceiver both are one. */
export interface ReceiverAddress {
  readonly url: string;
  readonly authHeaders: Record<string, string>;
}

/** The part of GET /api/sagas/:id every saga test reads; a test narrows `T` to the fields it asserts on. */
export interface SagaAnswer {
  saga: { status: string; error: string | null };
  events: { action: string; message: string; metadata: Record<string, unknown> }[];
}

export interface PushedCommit {
  readonly sha: string;
  readonly sagaId: string;
}

/** Commits `files` to `repo` and delivers its signed push; the receiver must accept it (202) and queue a deploy. */
export async function pushCommit(receiver: ReceiverAddress, repo: TestRepo, files: Record<string, string>): Promise<PushedCommit> {
  const sha = repo.commit(files);
  const res = await post(`${receiver.url}/api/webhooks/github`, githubPush({ secret: TEST_SECRET, repoUrl: repo.url, sha }));
  expect(res.status).to.equal(202);
  return { sha, sagaId: (res.body.deploys as { sagaId: string }[])[0]!.sagaId };
}

export async function readSaga<T extends SagaAnswer = SagaAnswer>(receiver: ReceiverAddress, sagaId: string): Promise<T> {
  return (await (await fetch(`${receiver.url}/api/sagas/${sagaId}`, { headers: receiver.authHeaders })).json()) as T;
}

/** Polls the saga until `ok` holds for it, and answers it then; fails after `timeoutMs` naming `what`. */
export function sagaWhere<T extends SagaAnswer = SagaAnswer>(receiver: ReceiverAddress, what: string, sagaId: string, ok: (s: T) => boolean, timeoutMs: number): Promise<T> {
  return eventually(what, async () => {
    const s = await readSaga<T>(receiver, sagaId);
    return ok(s) ? s : undefined;
  }, timeoutMs);
}

/** The saga once it is neither queued nor running. */
export function sagaEnded<T extends SagaAnswer = SagaAnswer>(receiver: ReceiverAddress, sagaId: string, timeoutMs: number): Promise<T> {
  return sagaWhere<T>(receiver, `saga ${sagaId} to end`, sagaId, (s) => !['queued', 'running'].includes(s.saga.status), timeoutMs);
}
