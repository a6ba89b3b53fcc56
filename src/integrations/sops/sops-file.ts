// What each format reader produces: the data branches in sops's tree model, the raw `sops` block, and a
// renderer that prints a decrypted tree back in the file's own format.
import type { SopsMap } from './sops-tree.js';

export type SopsFormat = 'yaml' | 'json' | 'dotenv';

export interface ParsedSopsFile {
  /** One branch per document (YAML may hold several), without the `sops` block. */
  readonly branches: readonly SopsMap[];
  /** The `sops` block as plain data (from the first document); undefined when the file has none. */
  readonly metadata: unknown;
  /** The decrypted branches (same shape as `branches`) as text in this format; call once. */
  render(decrypted: readonly SopsMap[]): string;
}
