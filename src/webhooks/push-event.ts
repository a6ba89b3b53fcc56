// The one normalized shape every forge adapter produces. Nothing outside webhooks/ sees a forge payload.

export type ForgeName = 'github' | 'gitea' | 'forgejo' | 'gitlab' | 'generic';

export const FORGE_NAMES: readonly ForgeName[] = ['github', 'gitea', 'forgejo', 'gitlab', 'generic'];

/** The bytes and headers of one delivery as received. Header names are lower-case. */
export interface RawDelivery {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

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

export interface ForgeAdapter {
  readonly name: ForgeName;
  /** True when the headers look like this forge's (used by /api/webhooks detection). */
  detects(delivery: RawDelivery): boolean;
  /** The delivery id the forge sent, or undefined when the header is missing. */
  deliveryId(delivery: RawDelivery): string | undefined;
  /** The event name from the headers, or undefined when missing. */
  eventName(delivery: RawDelivery): string | undefined;
  /** Verifies the raw bytes against the secret in constant time. Throws WebhookRejectedError(401) when it fails. */
  verify(delivery: RawDelivery, secret: string): Promise<void>;
  /** Parses verified bytes. Malformed bodies throw WebhookRejectedError(400). */
  parse(delivery: RawDelivery): ParsedDelivery;
}
