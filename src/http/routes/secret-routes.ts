// Editing an app's secrets file: `PUT /api/apps/:app/secrets/:key` with `{"value": "…"}` and
// `DELETE /api/apps/:app/secrets/:key`. The value comes in the JSON body only, never in the URL (URLs reach access
// logs and proxies), and no answer carries it: the edit answers the key, the file, the outcome and the saga.
import Router from '@koa/router';
import type { AppSecretEditor } from '../../operations/edit-app-secret.js';
import { MAX_SECRET_BYTES } from '../../operations/edit-app-secret.js';
import { readJsonBody } from '../read-body.js';

/** A JSON-escaped value may take six bytes per byte of the value (\u00XX). */
const MAX_BODY_BYTES = MAX_SECRET_BYTES * 6 + 1024;

export function secretRoutes(deps: { editor: Pick<AppSecretEditor, 'set' | 'delete'> }): Router {
  const r = new Router({ prefix: '/api/apps/:app/secrets' });

  r.put('/:key', async (ctx) => {
    const body = await readJsonBody(ctx.req, MAX_BODY_BYTES);
    ctx.body = await deps.editor.set(ctx.params.app, ctx.params.key, body.value);
  });

  r.delete('/:key', async (ctx) => {
    ctx.body = await deps.editor.delete(ctx.params.app, ctx.params.key);
  });
  return r;
}
