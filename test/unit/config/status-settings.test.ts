import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/errors.js';
import { statusConfigFromEnv } from '../../../src/config/status-settings.js';

describe('status settings', () => {
  it('turns statuses on per forge with a token, with the documented defaults', () => {
    const c = statusConfigFromEnv({ NORN_GITHUB_TOKEN: 'gh', NORN_GITLAB_TOKEN: 'gl' });
    expect(c.github).to.deep.equal({ url: 'https://api.github.com', token: 'gh' });
    expect(c.gitlab).to.deep.equal({ url: 'https://gitlab.com', token: 'gl' });
    expect(c.gitea).to.equal(undefined);
    expect(c.forgejo).to.equal(undefined);
    expect(c).to.include({ pollIntervalMs: 1000, retryBaseMs: 2000, retryMaxMs: 600_000, giveUpAfterMs: 24 * 3600_000, requestTimeoutMs: 15_000 });
  });

  it('Forgejo falls back to the Gitea settings, and may have its own', () => {
    const shared = statusConfigFromEnv({ NORN_GITEA_URL: 'https://git.example.com/', NORN_GITEA_TOKEN: 'gt' });
    expect(shared.gitea).to.deep.equal({ url: 'https://git.example.com', token: 'gt' });
    expect(shared.forgejo).to.deep.equal(shared.gitea);
    const own = statusConfigFromEnv({ NORN_GITEA_URL: 'https://git.example.com', NORN_GITEA_TOKEN: 'gt', NORN_FORGEJO_URL: 'https://codeberg.example', NORN_FORGEJO_TOKEN: 'fj' });
    expect(own.forgejo).to.deep.equal({ url: 'https://codeberg.example', token: 'fj' });
  });

  it('GitHub Enterprise is a different API URL', () => {
    expect(statusConfigFromEnv({ NORN_GITHUB_TOKEN: 'gh', NORN_GITHUB_API_URL: 'https://ghe.example.com/api/v3' }).github?.url).to.equal('https://ghe.example.com/api/v3');
  });

  it('names the variable at fault and never echoes a token', () => {
    const bad = (env: Record<string, string>, variable: string) => {
      try {
        statusConfigFromEnv(env);
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).variable).to.equal(variable);
        expect((err as Error).message).to.not.contain('secret-token');
        return;
      }
      expect.fail(`expected a ConfigError for ${variable}`);
    };
    bad({ NORN_GITEA_TOKEN: 'secret-token' }, 'NORN_GITEA_URL');
    bad({ NORN_GITHUB_TOKEN: 'secret-token', NORN_GITHUB_API_URL: 'ftp://x' }, 'NORN_GITHUB_API_URL');
    bad({ NORN_STATUS_RETRY_MAX_SECONDS: 'soon' }, 'NORN_STATUS_RETRY_MAX_SECONDS');
  });

  it('are parsed once with the rest of the configuration, from the config file too, and fail the same way', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'norn-status-cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'norn.yaml'), 'NORN_GITLAB_TOKEN: gl-from-file\nNORN_STATUS_POLL_INTERVAL_MS: 250\n');
      const c = loadConfig({ NORN_CONFIG: 'norn.yaml' }, dir);
      expect(c.statuses.gitlab).to.deep.equal({ url: 'https://gitlab.com', token: 'gl-from-file' });
      expect(c.statuses.pollIntervalMs).to.equal(250);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
    expect(() => loadConfig({ NORN_GITEA_TOKEN: 'secret-token' })).to.throw(ConfigError).with.property('variable', 'NORN_GITEA_URL');
  });
});
