// The one error type of the SOPS integration. Messages name paths, recipients and files, never a decrypted
// value or an identity, so they are safe for logs, events and HTTP answers.

/**
 * Why decryption failed. Callers branch on this, never on the message:
 * - `malformed`: not a SOPS file we can read (syntax, missing or invalid `sops` metadata, bad ENC[] value).
 * - `unsupported`: valid SOPS, but a feature this reader does not implement (Shamir key groups, aliases).
 * - `no-identity`: no age identity was configured, or the key material is not an age identity.
 * - `no-matching-identity`: none of the identities opens the data key of any age recipient of the file.
 * - `tampered`: a value or the MAC fails authentication, or the MAC does not match the content.
 */
export type SopsErrorCode = 'malformed' | 'unsupported' | 'no-identity' | 'no-matching-identity' | 'tampered';

export class SopsError extends Error {
  constructor(
    readonly code: SopsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SopsError';
  }
}
