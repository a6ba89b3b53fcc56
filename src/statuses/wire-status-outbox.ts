// Composition of commit statuses for the composition root: the projector registered on the saga log (call this
// before anything appends events) and the outbox worker, over the forge clients the root built.
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import type { SagaLog } from '../events/saga-log.js';
import type { StatusClient } from '../integrations/forge-status/status-client.js';
import { StatusOutbox } from './status-outbox.js';
import { projectStatuses } from './status-projector.js';

export interface WiredStatusOutbox {
  readonly outbox: StatusOutbox;
  /** The forges statuses go to (those with a token). */
  readonly forges: readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function wireStatusOutbox(input: {
  knex: Knex;
  sagaLog: SagaLog;
  log: Logger;
  config: Pick<Config, 'publicUrl' | 'statuses'>;
  /** One client per forge statuses go to (createStatusClients); `generic` included when configured. */
  clients: Record<string, StatusClient>;
  /** Masks configured secrets in a forge's error text before it is kept (last_error) or logged. */
  redact?: (text: string) => string;
}): WiredStatusOutbox {
  const settings = input.config.statuses;
  const log = input.log.child({ component: 'status-outbox' });
  const clients = redactedClients(input.clients, input.redact);
  const forges = Object.keys(clients);
  projectStatuses(input.sagaLog, { publicUrl: input.config.publicUrl, forges: new Set(forges) });
  const outbox = new StatusOutbox(settings, { knex: input.knex, sagaLog: input.sagaLog, log, clients });
  return {
    outbox,
    forges,
    async start() {
      log.info({ forges }, forges.length ? `commit statuses go to ${forges.join(', ')}` : 'commit statuses are off: no forge token is set');
      await outbox.start();
    },
    stop: () => outbox.stop(),
  };
}

/** The clients with the reason of every failed send passed through `redact`: forges echo tokens and URLs back. */
function redactedClients(clients: Record<string, StatusClient>, redact: ((text: string) => string) | undefined): Record<string, StatusClient> {
  if (!redact) return clients;
  const wrap = (client: StatusClient): StatusClient => ({
    maxDescriptionLength: client.maxDescriptionLength,
    async send(target, status, signal) {
      const result = await client.send(target, status, signal);
      return result.kind === 'delivered' ? result : { ...result, reason: redact(result.reason) };
    },
  });
  return Object.fromEntries(Object.entries(clients).map(([name, client]) => [name, wrap(client)]));
}
