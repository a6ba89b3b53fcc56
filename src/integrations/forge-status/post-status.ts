// One status POST over fetch, for the forges whose API is plain JSON (Gitea/Forgejo, GitLab): sends with a time
// limit, and turns a network failure into a retry whose reason never carries the token.
import { noAnswerReason } from '../../errors.js';
import { classifyResponse, upstreamMessageOf } from './classify-response.js';
import { redact, type SendResult } from './status-client.js';

export interface StatusPost {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload: unknown;
  readonly token: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** The forge's answer (status and message), or the retry a network failure calls for. */
export async function postStatus(
  fetchFn: typeof fetch,
  post: StatusPost,
): Promise<{ status: number; header: (name: string) => string | null; message: string } | SendResult> {
  try {
    const res = await fetchFn(post.url, {
      method: 'POST',
      headers: { ...post.headers, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(post.payload),
      signal: AbortSignal.any([post.signal, AbortSignal.timeout(post.timeoutMs)]),
    });
    const body = await res.text();
    return { status: res.status, header: (name) => res.headers.get(name), message: upstreamMessageOf(body) };
  } catch (err) {
    return { kind: 'retry', scope: 'request', reason: redact(`no answer from ${new URL(post.url).origin} (${noAnswerReason(err)})`, post.token) };
  }
}

/** Classifies an answer of postStatus, with the token kept out of any reason. */
export function resultOf(answer: { status: number; header: (name: string) => string | null; message: string }, token: string, now: number): SendResult {
  const result = classifyResponse(answer.status, answer.header, answer.message, now);
  return 'reason' in result ? { ...result, reason: redact(result.reason, token) } : result;
}
