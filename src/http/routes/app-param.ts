// The `:app` of an API path as the app it names. Anything that is not an app this receiver tracks (a malformed
// name included) is a 404 naming it, cut short so a hostile path cannot flood the answer.
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { LoadedApp } from '../../apps/load-app-specs.js';
import { isAppName } from '../../apps/infraspec-schema.js';
import { NotFoundError } from '../../errors.js';

export function appFromParam(catalog: Pick<AppCatalog, 'get'>, name: string | undefined): LoadedApp {
  const app = name && isAppName(name) ? catalog.get(name) : undefined;
  if (!app) throw new NotFoundError('app', String(name).slice(0, 64));
  return app;
}
