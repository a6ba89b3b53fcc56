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

  it('gives every request 30 s to arrive, and refuses a limit under the webhook body\'s, which it would cut short', () => {
    expect(loadConfig({}, '/srv/norn')).to.include({ requestTimeoutMs: 30_000, webhookBodyTimeoutMs: 10_000 });
    expect(loadConfig({ NORN_REQUEST_TIMEOUT_SECONDS: '600', NORN_WEBHOOK_BODY_TIMEOUT_SECONDS: '60' }, '/srv/norn').requestTimeoutMs).to.equal(600_000);
    expect(() => loadConfig({ NORN_REQUEST_TIMEOUT_SECONDS: '5' }, '/srv/norn'))
      .to.throw(ConfigError, 'must be at least NORN_WEBHOOK_BODY_TIMEOUT_SECONDS (10)')
      .with.property('variable', 'NORN_REQUEST_TIMEOUT_SECONDS');
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

  describe('settings Norn v2 users already have', () => {
    it('reads NORN_NOMAD_ADDR and NORN_CONSUL_ADDR when the standard names are unset, and names the alias in errors', () => {
      const c = loadConfig({ NORN_NOMAD_ADDR: 'http://nomad.internal:4646/', NORN_CONSUL_ADDR: 'http://consul.internal:8500' });
      expect(c.nomad.address).to.equal('http://nomad.internal:4646');
      expect(c.consul.address).to.equal('http://consul.internal:8500');
      expect(loadConfig({ NOMAD_ADDR: 'http://a:4646', NORN_NOMAD_ADDR: 'http://b:4646' }).nomad.address).to.equal('http://a:4646');
      expect(() => loadConfig({ NORN_NOMAD_ADDR: 'not a url' })).to.throw(ConfigError).with.property('variable', 'NORN_NOMAD_ADDR');
    });

    it('takes the snapshot step\'s server from the libpq environment when NORN_POSTGRES_URL is unset', () => {
      const c = loadConfig({ PGHOST: 'db.internal', PGPORT: '6432', PGUSER: 'admin', PGPASSWORD: 'p@ss:word', PGSSLMODE: 'require' });
      const url = new URL(c.postgresUrl!);
      expect(url.hostname).to.equal('db.internal');
      expect(url.port).to.equal('6432');
      expect(decodeURIComponent(url.username)).to.equal('admin');
      expect(decodeURIComponent(url.password)).to.equal('p@ss:word');
      expect(url.searchParams.get('sslmode')).to.equal('require');
      expect(new URL(loadConfig({ PGHOST: '/var/run/postgresql', PGUSER: 'postgres' }).postgresUrl!).searchParams.get('host')).to.equal('/var/run/postgresql');
      expect(loadConfig({}).postgresUrl).to.equal(undefined);
      expect(loadConfig({ NORN_POSTGRES_URL: 'postgres://x@h/db', PGHOST: 'other' }).postgresUrl).to.equal('postgres://x@h/db');
    });
  });
});
