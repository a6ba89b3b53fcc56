// `norn … | head`: the reader closes the pipe before norn has written everything. norn stops quietly, exit 0,
// no stack trace, whichever command was writing (the handler is process-wide, in main.ts).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTestService, type TestService } from '../support/test-service.js';

const MAIN = path.resolve('src/main.ts');

/** Runs the CLI with its stdout pipe already closed by the reader. */
function runWithClosedStdout(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('norn writing into a closed pipe', function () {
  this.timeout(60_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ specs: { shop: { name: 'shop', image: 'registry.example/shop:1', processes: { web: { command: 'serve' } } } } });
  });
  after(async () => svc?.close());

  it('exits quietly from the usage text', async () => {
    expect(await runWithClosedStdout(['help'])).to.deep.equal({ code: 0, stderr: '' });
  });

  it('exits quietly from a command that reads the API', async () => {
    expect(await runWithClosedStdout(['apps'], { NORN_URL: svc.url, NORN_API_TOKEN: svc.token })).to.deep.equal({ code: 0, stderr: '' });
  });
});
