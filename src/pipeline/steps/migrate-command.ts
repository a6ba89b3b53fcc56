// `migrations` given as a command (Norn's code runs it with sh -c, e.g. `migrations: make migrate`): it runs in a
// container of the image this deploy built, with DATABASE_URL naming the app's database through the admin role
// (as the SQL-file migrations connect), under the same advisory lock, after the same snapshot. The container runs
// on the engine's host network by default (NORN_MIGRATE_NETWORK) so it reaches the server the receiver reaches.
// The password never reaches the saga: output lines carrying it are masked.
import type { ClientConfig } from 'pg';
import { StepFailedError, UpstreamError, errorMessage } from '../../errors.js';
import type { DockerEngine } from '../../integrations/docker/docker-engine.js';
import { OutputRelay } from '../../integrations/docker/output-relay.js';
import { withMigrationLock } from '../migrations/apply-migrations.js';
import type { StepContext } from '../step.js';

export interface MigrationCommandConfig {
  readonly timeoutMs: number;
  readonly networkMode: string;
  readonly reportIntervalMs?: number;
}

export interface MigrationCommand {
  readonly command: string;
  readonly image: string;
  readonly database: string;
  readonly connection: ClientConfig;
  /** Said in the error when the command is not found: the value was not a directory in the checkout either. */
  readonly notADirectory: boolean;
}

const TAIL_LINES = 50;

export async function runMigrationCommand(
  ctx: StepContext,
  m: MigrationCommand,
  config: MigrationCommandConfig,
  docker: Pick<DockerEngine, 'run'>,
): Promise<void> {
  const url = m.connection.connectionString;
  if (!url) throw new StepFailedError('migrate', 'no connection string for the app database (NORN_POSTGRES_URL)');
  const password = decodeURIComponent(new URL(url).password);
  const mask = (text: string) => (password ? text.split(password).join('***') : text);
  const relay = new OutputRelay(
    { intervalMs: config.reportIntervalMs ?? 500, tailLines: TAIL_LINES },
    { report: (message, metadata) => ctx.report(mask(message), { metadata: { ...metadata, output: true } }), now: Date.now },
  );
  ctx.report(`running migration command \`${m.command}\` in ${m.image} against ${m.database}`);
  const outcome = await withMigrationLock(m.connection, ctx.signal, async () => {
    try {
      return await docker.run(
        {
          image: m.image,
          command: m.command,
          env: { DATABASE_URL: url },
          labels: { 'norn.saga': ctx.sagaId, 'norn.app': ctx.app, 'norn.step': 'migrate' },
          networkMode: config.networkMode,
          timeoutMs: config.timeoutMs,
          signal: ctx.signal,
        },
        (text, stream) => relay.write(mask(text), stream),
      );
    } catch (err) {
      relay.close();
      if (ctx.signal.aborted) throw ctx.signal.reason ?? err;
      const reason = err instanceof UpstreamError ? err.upstreamMessage : errorMessage(err);
      throw new StepFailedError('migrate', `could not run the migration command in ${m.image}: ${mask(reason)}`, { image: m.image }, { cause: err });
    }
  });
  relay.close();
  const tail = mask(relay.tail());
  if (outcome.timedOut) {
    throw new StepFailedError('migrate', `migration command timed out after ${Math.round(config.timeoutMs / 1000)}s`, { tail });
  }
  if (outcome.exitCode === 127) {
    const asDir = m.notADirectory ? ` "${m.command}" is not a directory in the checkout, so it ran as a command;` : '';
    throw new StepFailedError('migrate', `migration command not found in ${m.image} (exit code 127):${asDir} it runs inside the image, so the image must contain the tool`, { exitCode: 127, tail });
  }
  if (outcome.exitCode !== 0) {
    throw new StepFailedError('migrate', `migration command exited with code ${outcome.exitCode}`, { exitCode: outcome.exitCode, tail });
  }
}
