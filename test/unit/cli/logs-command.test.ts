// `norn logs` against a stand-in receiver: what it prints for each record, for a stream that stops with an error,
// for a refusal, and for a bad --since, and that its request carries the filters.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { logsCommand } from '../../../src/cli/logs-command.js';
import { captureIo } from '../../fakes/capture-io.js';

async function receiver(answer: (url: URL, res: http.ServerResponse) => void): Promise<{ url: string; seen: URL[]; close(): Promise<void> }> {
  const seen: URL[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(url);
    answer(url, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('norn logs', () => {
  it('prints stdout and stderr lines prefixed by instance, escaped, and fails on a stream that stopped', async () => {
    const r = await receiver((_url, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"process":"web","instance":"abc123","stream":"stdout","text":"hello \\u001b[2J\\r"}\n{"process":"web","instance":"abc123","stream":"std');
      setTimeout(() => res.end('err","text":"oops"}\n{"error":"nomad: read allocation logs: 500 boom"}\n'), 20);
    });
    try {
      const cap = captureIo();
      const code = await logsCommand(['shop', 'web', '-f', '--since', '1h30m', '--tail', '5'], { NORN_URL: r.url, NORN_API_TOKEN: 't' }, cap.io);
      expect(code).to.equal(1);
      expect(cap.out()).to.equal('web/abc123 hello \\u001b[2J\\u000d\n');
      expect(cap.err()).to.equal('web/abc123 oops\nnorn: the log stream stopped: nomad: read allocation logs: 500 boom\n');
      expect(Object.fromEntries(r.seen[0]!.searchParams)).to.deep.equal({ process: 'web', follow: 'true', since: '1h30m', tail: '5' });
      expect(r.seen[0]!.pathname).to.equal('/api/apps/shop/logs');
    } finally {
      await r.close();
    }
  });

  it('prints the receiver\'s refusal, and refuses a --since that is no duration before asking', async () => {
    const r = await receiver((_url, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'since: Nomad keeps no timestamps with allocation logs; on the Nomad runtime use --tail', field: 'since' }));
    });
    try {
      const refused = captureIo();
      expect(await logsCommand(['shop', '--since', '10m'], { NORN_URL: r.url }, refused.io)).to.equal(1);
      expect(refused.err()).to.equal('norn: since: Nomad keeps no timestamps with allocation logs; on the Nomad runtime use --tail\n');
      const bad = captureIo();
      expect(await logsCommand(['shop', '--since', 'yesterday'], { NORN_URL: r.url }, bad.io)).to.equal(2);
      expect(bad.err()).to.match(/^norn: --since takes a duration such as 10m/);
      expect(r.seen).to.have.length(1);
    } finally {
      await r.close();
    }
  });
});
