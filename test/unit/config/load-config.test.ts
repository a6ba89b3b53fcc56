import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { describeSettings, loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({}, '/srv/norn');
    expect(c.port).to.equal(8800);
    expect(c.dataDir).to.equal('/srv/norn/data');
    expect(c.appsDir).to.equal('/srv/norn/config/apps');
    expect(c.databaseUrl).to.equal(undefined);
    expect(c.maxConcurrentDeploys).to.equal(4);
  });

  it('keeps a 4 GB repository cache under the data dir unless told otherwise, and 0 turns it off', () => {
    expect(loadConfig({}, '/srv/norn').gitCache).to.deep.equal({ dir: '/srv/norn/data/git-cache', maxBytes: 4096 * 1024 * 1024 });
    expect(loadConfig({ NORN_GIT_CACHE_DIR: '/var/cache/norn', NORN_GIT_CACHE_MAX_MB: '10' }, '/srv/norn').gitCache).to.deep.equal({ dir: '/var/cache/norn', maxBytes: 10 * 1024 * 1024 });
    expect(loadConfig({ NORN_GIT_CACHE_MAX_MB: '0' }, '/srv/norn').gitCache).to.equal(undefined);
  });

  it('names the variable at fault and never echoes a secret value', () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ NORN_PORT: 'eighty' }).variable).to.equal('NORN_PORT');
    expect(bad({ NORN_MAX_CONCURRENT_DEPLOYS: '0' }).variable).to.equal('NORN_MAX_CONCURRENT_DEPLOYS');
    const secret = bad({ NORN_DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(secret.variable).to.equal('NORN_DATABASE_URL');
    expect(secret.message).to.not.contain('hunter2');
    expect(bad({ NORN_WEBHOOK_SECRET: 'short' }).message).to.not.contain('short:');
  });

  it('reads a YAML config file, with the environment winning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-cfg-'));
    fs.writeFileSync(path.join(dir, 'norn.yaml'), 'NORN_PORT: 9000\nNORN_HOST: 127.0.0.1\n');
    const c = loadConfig({ NORN_CONFIG: 'norn.yaml', NORN_HOST: '0.0.0.0' }, dir);
    expect(c.port).to.equal(9000);
    expect(c.host).to.equal('0.0.0.0');
    fs.rmSync(dir, { recursive: true });
  });

  it('lists every setting with its default for --help, showing secrets only as set or unset', () => {
    const text = describeSettings({ NORN_API_TOKEN: 'supersecret-token' });
    expect(text).to.contain('NORN_PORT').and.contain('default 8800');
    expect(text).to.contain('NORN_API_TOKEN').and.contain('(set)');
    expect(text).to.not.contain('supersecret-token');
  });
});
