// A scale or restart that fails names the instance with its last output, and an app may print its secrets there.
// A receiver that just started has not decrypted the app's secrets yet (no deploy taught its redactor), so the
// operation must learn them before it runs, as `norn logs` does, or the value lands in the saga.
import http from 'node:http';
import Koa from 'koa';
import pino from 'pino';
import { expect } from 'chai';
import type { LoadedApp } from '../../../src/apps/load-app-specs.js';
import type { NewSagaEvent } from '../../../src/events/saga-event.js';
import { errorMiddleware } from '../../../src/http/error-middleware.js';
import { operateRoutes } from '../../../src/http/routes/operate-routes.js';
import { OperationRunner } from '../../../src/operations/operation-runner.js';
import type { Runtime } from '../../../src/pipeline/runtime.js';
import { SecretRedactor } from '../../../src/redaction/secret-redactor.js';
import { eventually } from '../../support/test-service.js';

const SECRET = 'sk_live_only-in-the-secrets-file';

describe('scale and restart mask the app\'s secrets in what they record', () => {
  let server: http.Server;
  let url: string;
  const events: NewSagaEvent[] = [];

  before(async () => {
    const log = pino({ level: 'silent' });
    const redactor = new SecretRedactor([]);
    // As SagaLog does: every event's message and metadata pass through the redactor before they are stored.
    const sagaLog = { append: async (e: NewSagaEvent) => { events.push({ ...e, message: redactor.redact(e.message), ...(e.metadata ? { metadata: redactor.redactDeep(e.metadata) } : {}) }); return e as never; } };
    const failing = async () => { throw new Error(`web/abc123 did not become healthy; its last output: booting with STRIPE_KEY=${SECRET}`); };
    const runtime = {
      name: 'docker',
      instances: async () => [{ process: 'web', id: 'abc123' }],
      scale: failing,
      restart: failing,
    } as unknown as Runtime;
    const app = { name: 'shop', dir: '/nowhere', spec: { processes: { web: { port: 8080, scaling: { min: 1 } } } } } as unknown as LoadedApp;
    const router = operateRoutes({
      catalog: { get: (name: string) => (name === 'shop' ? app : undefined) },
      runtime: { require: async () => runtime, current: async () => runtime } as never,
      operations: new OperationRunner({ sagaLog, log }),
      isDeployRunning: async () => false,
      redactor,
      loadSecrets: async () => ({ env: { STRIPE_KEY: SECRET } }) as never,
      log,
    });
    const koa = new Koa();
    koa.use(errorMiddleware(log));
    koa.use(router.routes());
    server = http.createServer(koa.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const [verb, body] of [['scale', { process: 'web', count: 2 }], ['restart', {}]] as const) {
    it(`${verb}: the failure is recorded with the secret masked`, async () => {
      const res = await fetch(`${url}/api/apps/shop/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(res.status).to.equal(202);
      const { sagaId } = (await res.json()) as { sagaId: string };
      const failed = await eventually(`${verb} to fail`, async () => events.find((e) => e.sagaId === sagaId && e.action === 'operation.failed'));
      expect(failed.message).to.contain('did not become healthy').and.to.contain('STRIPE_KEY=').and.not.to.contain(SECRET);
      expect(JSON.stringify(events.filter((e) => e.sagaId === sagaId))).not.to.contain(SECRET);
    });
  }
});
