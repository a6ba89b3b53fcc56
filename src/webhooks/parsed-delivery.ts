// The one normalized shape every forge adapter produces from a delivery: a push, a pull request, a ping, or a
// delivery that asks for nothing. Nothing outside webhooks/ sees a forge payload.
import type { ForgeName } from './forge-adapter.js';

export interface PushCommit {
  readonly id: string;
  readonly message: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

/** Where the push came from: enough to match apps and to report commit statuses back. */
export interface RepositoryRef {
  /** "owner/name" as the forge spells it. */
  readonly fullName: string;
  /** Every URL the forge gave for the repo (clone https, ssh, web); matching normalizes each. */
  readonly urls: readonly string[];
  /** The forge's web base (e.g. https://gitea.example.com), for status APIs of self-hosted forges. */
  readonly webUrl?: string;
}

export interface PushEvent {
  readonly kind: 'push';
  readonly forge: ForgeName;
  readonly deliveryId: string;
  readonly repository: RepositoryRef;
  /** Full ref, e.g. refs/heads/main or refs/tags/v1.2.0. */
  readonly ref: string;
  readonly before: string;
  /** The pushed commit; a deploy pins this SHA, never the branch tip. */
  readonly after: string;
  readonly deleted: boolean;
  readonly headCommitMessage: string;
  readonly author: string;
  readonly commits: readonly PushCommit[];
}

export interface PullRequestEvent {
  readonly kind: 'pull_request';
  readonly forge: ForgeName;
  readonly deliveryId: string;
  readonly repository: RepositoryRef;
  readonly action: string;
  readonly number: number;
  readonly baseBranch: string;
  readonly headSha: string;
  readonly headRef: string;
}

export interface PingEvent {
  readonly kind: 'ping';
  readonly forge: ForgeName;
  readonly deliveryId: string;
}

/** A delivery that is valid but asks for nothing; answered 200 with the reason. */
export interface Ignored {
  readonly kind: 'ignored';
  readonly forge: ForgeName;
  readonly deliveryId: string;
  readonly event: string;
  readonly reason: string;
}

export type ParsedDelivery = PushEvent | PullRequestEvent | PingEvent | Ignored;
