// One adapter per forge, keyed by the name used in /api/webhooks/:provider and in the deliveries ledger.
import { createGenericAdapter } from './generic.js';
import { createGithubAdapter } from './github.js';
import { createGiteaAdapter, FORGEJO_CONFIG, GITEA_CONFIG } from './gitea.js';
import { createGitlabAdapter } from './gitlab.js';
import type { ForgeAdapter, ForgeName } from './forge-adapter.js';

export function createForgeAdapters(): Record<ForgeName, ForgeAdapter> {
  return {
    github: createGithubAdapter(),
    gitea: createGiteaAdapter(GITEA_CONFIG),
    forgejo: createGiteaAdapter(FORGEJO_CONFIG),
    gitlab: createGitlabAdapter(),
    generic: createGenericAdapter(),
  };
}
