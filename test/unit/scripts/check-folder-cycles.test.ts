import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const script = path.resolve('scripts/check-folder-cycles.ts');
const tsx = path.resolve('node_modules/.bin/tsx');

async function check(files: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'folder-cycles-'));
  try {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), text);
    }
    try {
      const { stdout, stderr } = await run(tsx, [script, root], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe('check-folder-cycles (the lint step that keeps src/ folders acyclic)', function () {
  this.timeout(120_000);

  it('passes when folders import only later folders, and files inside one folder import each other freely', async () => {
    const result = await check({
      'webhooks/a.ts': "import { b } from '../deploys/b.js';\nimport { c } from './c.js';\n",
      'webhooks/c.ts': "import { a } from './a.js';\n",
      'deploys/b.ts': "import type { E } from '../errors.js';\n",
      'errors.ts': 'export type E = string;\n',
    });
    expect(result.code).to.equal(0);
    expect(result.stdout).to.contain('no import cycle');
  });

  it('fails on a cycle and names its folders with one example import per edge, type-only and re-exports included', async () => {
    const result = await check({
      'statuses/post.ts': "import type { Client } from '../integrations/github/client.js';\n",
      'integrations/github/client.ts': "export { post } from '../../statuses/post.js';\n",
      'apps/x.ts': "import '../integrations/github/client.js';\n",
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.contain('import cycle between folders: integrations, statuses');
    expect(result.stderr).to.contain('statuses -> integrations   (statuses/post.ts => ../integrations/github/client.js)');
    expect(result.stderr).to.contain('integrations -> statuses   (integrations/github/client.ts => ../../statuses/post.js)');
    expect(result.stderr).not.to.contain('apps');
  });
});
