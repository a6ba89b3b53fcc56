// What runs for an app, asked of the runtime: `GET /api/apps/:app/instances` answers
// [{process, id, address, image, commitSha, state, healthy}], and `.../instances/:id/logs?tail=` an instance's
// last output; `DELETE` stops and removes them all (`norn teardown`), and `GET .../instances/teardown` says what that
// DELETE would do. An app removed from the apps dir still shows the instances it left running.
import Router from '@koa/router';
import { isAppName } from '../../apps/infraspec-schema.js';
import type { AppCatalog } from '../../apps/app-catalog.js';
import { InvalidInputError, NotFoundError, StepFailedError } from '../../errors.js';
import type { RuntimeName, RuntimeSource } from '../../pipeline/runtime.js';

/** `GET /api/apps/:app/instances/teardown`: what `DELETE /api/apps/:app/instances` would do now. */
export interface TeardownPreview {
  readonly app: string;
  /** null when no runtime is configured (the DELETE then refuses, and nothing is stopped). */
  readonly runtime: RuntimeName | null;
  /** How many instances the DELETE would stop and remove. */
  readonly stops: number;
  /** What teardown leaves running and why (Nomad: its jobs), or null. */
  readonly note: string | null;
}

export function instanceRoutes(deps: {
  catalog: Pick<AppCatalog, 'get'>;
  runtime: RuntimeSource;
  /** Masks secrets the receiver knows in an instance's output before it is answered. */
  redact?: (text: string) => string;
}): Router {
  const r = new Router({ prefix: '/api/apps/:app/instances' });
  const nameOf = (name: string | undefined): string => {
    if (!name || !isAppName(name)) throw new NotFoundError('app', String(name).slice(0, 64));
    return name;
  };

  /** The runtime, or 409 saying which settings would give one. */
  const runtimeFor = async (what: string) => {
    try {
      return await deps.runtime.require(what);
    } catch (err) {
      if (err instanceof StepFailedError) throw new InvalidInputError('runtime', err.message, 409);
      throw err;
    }
  };

  r.get('/', async (ctx) => {
    const app = nameOf(ctx.params.app);
    const runtime = await deps.runtime.current();
    const instances = runtime ? await runtime.instances(app, AbortSignal.timeout(15_000)) : [];
    if (instances.length === 0 && !deps.catalog.get(app)) throw new NotFoundError('app', app);
    ctx.body = instances;
  });

  r.delete('/', async (ctx) => {
    const app = nameOf(ctx.params.app);
    const { stopped, note } = await (await runtimeFor('teardown')).stop(app);
    ctx.body = { app, stopped, message: note ?? `stopped and removed ${stopped} container(s) of ${app}`, note: note ?? null };
  });

  // The runtime's own preview, so `norn teardown` asks about what the DELETE will really do (Nomad stops nothing).
  r.get('/teardown', async (ctx) => {
    const app = nameOf(ctx.params.app);
    const runtime = await deps.runtime.current();
    const preview = runtime ? await runtime.previewStop(app) : { stops: 0 };
    ctx.body = { app, runtime: runtime?.name ?? null, stops: preview.stops, note: preview.note ?? null } satisfies TeardownPreview;
  });

  r.get('/:id/logs', async (ctx) => {
    const app = nameOf(ctx.params.app);
    const id = ctx.params.id ?? '';
    if (!/^[0-9a-f-]{6,64}$/i.test(id)) throw new InvalidInputError('id', 'must be an instance id as `norn status` shows it');
    const tail = ctx.query.tail === undefined ? 100 : Number(ctx.query.tail);
    if (!Number.isInteger(tail) || tail < 1 || tail > 10_000) throw new InvalidInputError('tail', 'must be a whole number from 1 to 10000');
    ctx.type = 'text/plain';
    const text = await (await runtimeFor('logs')).logs(app, id, { tail });
    ctx.body = deps.redact ? deps.redact(text) : text;
  });
  return r;
}
