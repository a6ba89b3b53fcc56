// Every typed error a user can meet through the API answers with a status that says whose fault it is, a message,
// and for upstream failures the service, the operation and a hint (issue 14 item 6, issue 15): never a bare 500.
import { expect } from 'chai';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { CommandError, ConfigError, InvalidInputError, NotFoundError, RequestBodyError, UpstreamError, UpstreamTimeoutError, WebhookRejectedError } from '../../../src/errors.js';
import { errorMiddleware } from '../../../src/http/error-middleware.js';
import { SecretRedactor } from '../../../src/redaction/secret-redactor.js';
import { memoryLogger } from '../../support/memory-logger.js';

const SECRET = 'nomad-acl-token-77';

async function answerTo(err: unknown): Promise<{ status: number; body: Record<string, unknown>; logged: string; retryAfter: string | null }> {
  const { log, lines } = memoryLogger();
  const redactor = new SecretRedactor([SECRET]);
  const app = new Koa();
  app.silent = true;
  app.use(errorMiddleware(log, (t) => redactor.redact(t)));
  app.use(() => {
    throw err;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/x`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, logged: lines.join('\n'), retryAfter: res.headers.get('retry-after') };
  } finally {
    server.close();
  }
}

describe('error middleware', () => {
  it('answers an upstream failure 502 with the service, the operation, the redacted message and a hint', async () => {
    const a = await answerTo(new UpstreamError('nomad', 'register job', 403, `ACL token ${SECRET} not found`, { hint: 'check NOMAD_TOKEN' }));
    expect(a.status).to.equal(502);
    expect(a.body).to.deep.equal({ error: 'nomad: register job failed (403): ACL token *** not found', service: 'nomad', operation: 'register job', hint: 'check NOMAD_TOKEN' });
  });

  it('answers an upstream timeout 504', async () => {
    const a = await answerTo(new UpstreamTimeoutError('git', 'ls-remote https://h/x.git', 120_000, { hint: 'check the host' }));
    expect(a.status).to.equal(504);
    expect(a.body.error).to.equal('git: ls-remote https://h/x.git gave no answer within 120s');
    expect(a.body.hint).to.equal('check the host');
  });

  it('answers a failed command 502 with the command and the end of its output', async () => {
    const a = await answerTo(new CommandError(['pg_restore', '--clean'], 1, `pg_restore: error: connection to postgres://u:${SECRET}@db failed`));
    expect(a.status).to.equal(502);
    expect(a.body.command).to.equal('pg_restore');
    expect(String(a.body.error)).to.match(/^pg_restore exited 1: pg_restore: error: connection/);
    expect(JSON.stringify(a.body)).to.not.contain(SECRET);
  });

  it('names the setting of a configuration error', async () => {
    const a = await answerTo(new ConfigError('NORN_GITEA_URL', 'must be set when NORN_GITEA_TOKEN is'));
    expect(a.status).to.equal(500);
    expect(a.body.field).to.equal('NORN_GITEA_URL');
    expect(a.body.hint).to.match(/fix NORN_GITEA_URL/);
  });

  it('keeps 4xx answers as they were', async () => {
    expect((await answerTo(new InvalidInputError('ref', 'nope does not exist', 404))).body).to.deep.equal({ error: 'ref: nope does not exist', field: 'ref' });
    expect((await answerTo(new NotFoundError('app', 'x'))).status).to.equal(404);
    expect((await answerTo(new WebhookRejectedError(413, 'too big'))).status).to.equal(413);
    expect(await answerTo(new RequestBodyError(400, 'request body is not valid JSON'))).to.deep.include({ status: 400, body: { error: 'request body is not valid JSON' } });
  });

  it('answers 503 with Retry-After when the store is down or busy', async () => {
    for (const err of [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })]) {
      const a = await answerTo(err);
      expect(a.status, err.message).to.equal(503);
      expect(a.retryAfter).to.equal('5');
      expect(a.body.error).to.match(/^the receiver's store is unavailable/);
      expect(a.body.hint).to.match(/NORN_DATABASE_URL/);
    }
  });

  it('answers an unexpected error 500 with a reference to the log line, never its text', async () => {
    const a = await answerTo(new Error(`SQLITE_BUSY ${SECRET}`));
    expect(a.status).to.equal(500);
    expect(a.body.error).to.match(/^internal error: /);
    expect(a.body.hint).to.contain(String(a.body.reference));
    expect(a.logged).to.contain(String(a.body.reference));
    expect(JSON.stringify(a.body)).to.not.contain('SQLITE_BUSY');
  });
});
