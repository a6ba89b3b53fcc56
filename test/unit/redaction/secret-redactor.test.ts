import { expect } from 'chai';
import { loadConfig } from '../../../src/config/load-config.js';
import { secretRedactor, SecretRedactor } from '../../../src/redaction/secret-redactor.js';

describe('SecretRedactor', () => {
  const env = {
    NORN_API_TOKEN: 'api-token-123456',
    NORN_WEBHOOK_SECRET: 'hook-secret-abcdef',
    NORN_GIT_TOKEN: 'ghp_gittoken987654',
    NORN_REGISTRY_USERNAME: 'norn',
    NORN_REGISTRY_PASSWORD: 'registry-pass-42',
    NOMAD_TOKEN: 'nomad-acl-token-77',
    NORN_DATABASE_URL: 'postgres://norn:db-pass-999@127.0.0.1:5432/norn',
    NORN_POSTGRES_URL: 'postgres://admin:pg%2Fadmin%40pw@127.0.0.1/postgres',
    NORN_GITHUB_TOKEN: 'ghp_forge_status_token',
    NORN_GITLAB_TOKEN: 'glpat-gitlabtoken1',
    SOPS_AGE_KEY: 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ',
  };
  const redactor = secretRedactor(loadConfig(env, '/tmp'));

  it('masks every configured secret, in any position of any text', () => {
    for (const [name, value] of Object.entries(env)) {
      if (name === 'NORN_REGISTRY_USERNAME') continue;
      const secret = name.endsWith('_URL') ? decodeURIComponent(new URL(value).password) : value;
      const out = redactor.redact(`upstream said: "${secret}" (again:${secret})`);
      expect(out, name).to.not.contain(secret);
      expect(out, name).to.contain('***');
    }
  });

  it('masks the base64, URL-encoded and JSON-escaped forms too', () => {
    const basic = Buffer.from(`x-access-token:${env.NORN_GIT_TOKEN}`).toString('base64');
    expect(redactor.redact(`Authorization: Basic ${basic}`)).to.equal('Authorization: Basic ***');
    expect(redactor.redact(encodeURIComponent('pg/admin@pw'))).to.equal('***');
    const quoted = new SecretRedactor(['with "quotes" and \\ inside']);
    expect(quoted.redact(JSON.stringify({ msg: 'x with "quotes" and \\ inside y' }))).to.not.contain('quotes');
  });

  it('masks the password of any URL, however short', () => {
    expect(new SecretRedactor([]).redact('cannot connect to postgres://norn:norn@db:5432/x and https://u:p@h/x')).to.equal('cannot connect to postgres://norn:***@db:5432/x and https://u:***@h/x');
  });

  it('does not mask short values as bare words (a 4-letter password would hide ordinary words)', () => {
    expect(new SecretRedactor(['norn']).redact('norn: deploy failed')).to.equal('norn: deploy failed');
  });

  it('learns decrypted app secrets, and redacts nested metadata', () => {
    const r = new SecretRedactor([]);
    r.remember(['s3cr3t-app-value']);
    expect(r.redactDeep({ a: ['x s3cr3t-app-value y'], n: 1, b: { c: 's3cr3t-app-value' } })).to.deep.equal({ a: ['x *** y'], n: 1, b: { c: '***' } });
  });
});
