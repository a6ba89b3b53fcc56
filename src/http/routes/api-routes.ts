// The read and control API: health, apps, deliveries, deploys, sagas and events.
import Router from '@koa/router';
import type { ParameterizedContext } from 'koa';
import { isAppName } from '../../apps/infraspec-schema.js';
import type { AppCatalog } from '../../apps/app-catalog.js';
import type { DeliveryLedger } from '../../deliveries/delivery-ledger.js';
import type { DeliveryReceiver } from '../../deliveries/delivery-receiver.js';
import type { DeployHistory } from '../../deploys/deploy-history.js';
import { deployView, type DeployRecord, type DeployStatus } from '../../deploys/deploy-record.js';
import type { ManualDeploy } from '../../deploys/manual-deploy.js';
import type { SagaLog } from '../../events/saga-log.js';
import { InvalidInputError, NotFoundError } from '../../errors.js';
import type { IntegrationReport } from '../../health/integration-report.js';
import { readJsonBody } from '../read-body.js';
import { hasToken } from '../auth.js';

export interface ApiDeps {
  readonly catalog: Pick<AppCatalog, 'list' | 'get'>;
  readonly ledger: DeliveryLedger;
  readonly receiver: DeliveryReceiver;
  readonly deploys: Pick<DeployHistory, 'list' | 'get' | 'live'>;
  readonly sagaLog: SagaLog;
  readonly manualDeploy: ManualDeploy;
  /** The steps a run has, in order, from the pipeline that runs it (deploys/deploy-execution.ts runStepsOf). */
  readonly stepsOf: (deploy: DeployRecord) => Promise<readonly string[]>;
  readonly isHealthy: () => Promise<boolean>;
  /** Which integrations are configured and answer (GET /api/health?verbose); absent in tests that need none. */
  readonly integrationReport?: () => Promise<IntegrationReport>;
}

const UUID = /^[0-9a-f-]{36}$/;

export function limitParam(value: unknown, fallback = 50, max = 1000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidInputError('limit', `must be an integer from 1 to ${max}`);
  return n;
}

function appParam(value: string | undefined): string {
  if (!value || !isAppName(value)) throw new InvalidInputError('app', 'must be an app name (lower-case letters, digits, dashes)');
  return value;
}

function idParam(value: string | undefined, what: string): string {
  if (!value || !UUID.test(value)) throw new NotFoundError(what, String(value).slice(0, 40));
  return value;
}

/** GET /api/health: public (load balancers and the Docker HEALTHCHECK carry no token). */
export function healthRoutes(deps: Pick<ApiDeps, 'isHealthy' | 'integrationReport'> & { readonly apiToken: string }): Router {
  const r = new Router({ prefix: '/api' });
  // Plain /api/health stays public and cheap (load balancers, HEALTHCHECK); ?verbose probes every integration and
  // names their addresses, so it needs the API token and answers within the probes' deadline.
  r.all('/health', async (ctx) => {
    if (!onlyMethods(ctx, ['GET', 'HEAD'])) return;
    const verbose = ctx.query.verbose !== undefined && deps.integrationReport;
    if (verbose && !hasToken(ctx, deps.apiToken)) return;
    const [ok, report] = await Promise.all([deps.isHealthy().catch(() => false), verbose ? deps.integrationReport!() : undefined]);
    ctx.status = ok ? 200 : 503;
    const why = ok ? {} : { error: 'the receiver\'s own database does not answer (NORN_DATA_DIR, or NORN_DATABASE_URL)' };
    ctx.body = { status: ok ? 'ok' : 'unavailable', ...why, ...(report ?? {}) };
  });
  return r;
}

/** A public route answers a method it does not take itself (405 with Allow): it never passes the request on. */
export function onlyMethods(ctx: ParameterizedContext, methods: readonly string[]): boolean {
  if (methods.includes(ctx.method)) return true;
  ctx.status = 405;
  ctx.set('Allow', methods.join(', '));
  ctx.body = { error: `${ctx.method} is not allowed here; use ${methods.join(' or ')}` };
  return false;
}

/** Everything under /api but health: mounted behind the token check. */
export function apiRoutes(deps: ApiDeps): Router {
  const r = new Router({ prefix: '/api' });
  // Every answer that describes a run says which steps it has, so clients draw those and keep no list of their own.
  const runView = async (d: DeployRecord) => ({ ...deployView(d), steps: await deps.stepsOf(d) });
  const runViews = (list: readonly DeployRecord[]) => Promise.all(list.map(runView));

  r.get('/apps', async (ctx) => {
    const { apps, errors } = deps.catalog.list();
    const last = await Promise.all(apps.map(async (a) => (await runViews(await deps.deploys.list({ app: a.name, limit: 1 })))[0] ?? null));
    ctx.body = {
      apps: apps.map((a, i) => ({ name: a.name, file: a.file, repo: a.spec.repo ?? null, deploy: a.spec.deploy, processes: Object.keys(a.spec.processes), lastDeploy: last[i], warnings: a.warnings })),
      errors,
    };
  });

  r.get('/apps/:app', async (ctx) => {
    const app = deps.catalog.get(appParam(ctx.params.app));
    if (!app) throw new NotFoundError('app', ctx.params.app!);
    // The live deploy is looked up on its own: ten failed deploys since must not hide what runs. A pull request's
    // preflight builds without deploying, so its image is never what runs.
    const [deploys, current] = await Promise.all([deps.deploys.list({ app: app.name, limit: 10 }), deps.deploys.live(app.name)]);
    const running = deploys.find((d) => d.status === 'running');
    // An image a later deploy built (and pushed) but that never went live: that deploy failed or was cut off after build.
    const newerBuild = deploys.find(
      (d) => d.kind === 'deploy' && d.status !== 'running' && d.status !== 'succeeded' && d.imageTag && d.imageTag !== current?.imageTag && (!current || d.createdAt > current.createdAt),
    );
    // The deploy row does not keep whether the live deploy's hostnames were routed; its last event does.
    const notRouted = current ? (await deps.sagaLog.forSaga(current.id)).find((e) => e.action === 'deploy.complete')?.metadata.notRouted : undefined;
    ctx.body = {
      name: app.name,
      file: app.file,
      spec: app.spec,
      warnings: app.warnings,
      currentImage: current?.imageTag ?? null,
      currentDeploy: current ? { ...(await runView(current)), notRouted: typeof notRouted === 'string' ? notRouted : null } : null,
      lastBuiltNotDeployed: newerBuild ? await runView(newerBuild) : null,
      running: running ? await runView(running) : null,
      deploys: await runViews(deploys),
    };
  });

  r.post('/apps/:app/deploy', async (ctx) => {
    const body = await readJsonBody(ctx.req);
    const result = await deps.manualDeploy.deploy(appParam(ctx.params.app), body.ref);
    ctx.status = 202;
    ctx.body = { deploys: [result] };
  });

  r.get('/apps/:app/events', async (ctx) => {
    ctx.body = { events: await deps.sagaLog.recent({ app: appParam(ctx.params.app), limit: limitParam(ctx.query.limit, 100) }) };
  });

  r.get('/deploys', async (ctx) => {
    const app = ctx.query.app === undefined ? undefined : appParam(String(ctx.query.app));
    const status = ctx.query.status === undefined ? undefined : (String(ctx.query.status) as DeployStatus);
    ctx.body = { deploys: await runViews(await deps.deploys.list({ app, status, limit: limitParam(ctx.query.limit) })) };
  });

  r.get('/sagas/:id', async (ctx) => {
    const id = idParam(ctx.params.id, 'saga');
    const [deploy, events] = await Promise.all([deps.deploys.get(id), deps.sagaLog.forSaga(id)]);
    if (!deploy && events.length === 0) throw new NotFoundError('saga', id);
    ctx.body = { saga: deploy ? await runView(deploy) : null, events };
  });

  r.get('/events', async (ctx) => {
    const app = ctx.query.app === undefined ? undefined : appParam(String(ctx.query.app));
    ctx.body = { events: await deps.sagaLog.recent({ app, limit: limitParam(ctx.query.limit, 100) }) };
  });

  r.get('/deliveries', async (ctx) => {
    const app = ctx.query.app === undefined ? undefined : appParam(String(ctx.query.app));
    ctx.body = { deliveries: await deps.ledger.list({ app, limit: limitParam(ctx.query.limit) }) };
  });

  r.get('/deliveries/:id', async (ctx) => {
    const id = idParam(ctx.params.id, 'delivery');
    const delivery = await deps.ledger.get(id);
    if (!delivery) throw new NotFoundError('delivery', id);
    const deploys = await deps.deploys.list({ deliveryId: id, limit: 100 });
    ctx.body = { delivery, deploys: await runViews(deploys) };
  });

  r.post('/deliveries/:id/redeliver', async (ctx) => {
    const id = idParam(ctx.params.id, 'delivery');
    const original = await deps.ledger.get(id);
    if (!original) throw new NotFoundError('delivery', id);
    const payload = await deps.ledger.payload(id);
    if (!payload || original.verdict === 'rejected') throw new InvalidInputError('delivery', 'was rejected or has no stored payload; it cannot be redelivered', 409);
    const result = await deps.receiver.redeliver(id, payload, original.forge);
    ctx.status = result.status;
    ctx.body = { ...result.body, redeliveryOf: id };
  });

  return r;
}
