// What the CLI says when the service refuses or is not there: the API's message, or how to start it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { ApiClient, ApiError } from '../../../src/cli/api-client.js';
import { statusCommand } from '../../../src/cli/app-commands.js';
import { captureIo } from '../../fakes/capture-io.js';
import { freePort } from '../../support/child-receiver.js';


describe('ApiClient', () => {
  it('sends the token as a bearer and turns an error answer into its message', async () => {
    const seen: (string | undefined)[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'app nope not found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const api = ApiClient.fromEnv({ NORN_URL: `http://127.0.0.1:${port}/`, NORN_API_TOKEN: 'sekret-token' });
      const err = await api.get('/api/apps/nope').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ApiError).and.to.include({ status: 404, message: 'app nope not found' });
      expect(seen).to.deep.equal(['Bearer sekret-token']);
      expect(api.liveUrl({ app: 'shop', since: 4 })).to.equal(`ws://127.0.0.1:${port}/ws?app=shop&since=4`);
    } finally {
      server.close();
    }
  });

  it('says the receiver cannot be reached, and how to start it, without a stack trace', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const c = captureIo();
    expect(await statusCommand(['shop'], { NORN_URL: url }, c.io)).to.equal(1);
    expect(c.err()).to.equal(`norn: cannot reach the receiver at ${url}: is \`norn serve\` running?\n`);
  });

  it('refuses a NORN_URL that is not an http URL', async () => {
    const c = captureIo();
    expect(await statusCommand(['shop'], { NORN_URL: 'ftp://x' }, c.io)).to.equal(1);
    expect(c.err()).to.equal('norn: NORN_URL must be an http(s) URL: ftp://x\n');
  });
});
