// One line for the saga, the API and the CLI saying what an ingress change did and whether cloudflared has it.
import type { IngressChange } from './cloudflared-ingress.js';

export function describeIngressChange(change: IngressChange): string {
  const parts = [
    change.added.length ? `added ${change.added.join(', ')}` : '',
    change.updated.length ? `updated ${change.updated.join(', ')}` : '',
    change.removed.length ? `removed ${change.removed.join(', ')}` : '',
  ].filter(Boolean);
  const what = change.changed ? `cloudflared ingress ${parts.join('; ')} in ${change.configPath}` : `cloudflared ingress up to date in ${change.configPath}`;
  switch (change.reload.status) {
    case 'reloaded':
      return change.reload.reason === 'pending'
        ? `${what}; ran the reload a failed attempt still owed (${change.reload.command})`
        : `${what}; cloudflared reloaded (${change.reload.command})`;
    case 'not-configured':
      return `${what}; cloudflared must be restarted to load the change (no NORN_CLOUDFLARED_RESTART command is configured)`;
    case 'not-needed':
      return what;
  }
}
