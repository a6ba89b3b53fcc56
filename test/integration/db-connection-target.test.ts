// NORN_POSTGRES_URL parsing: what the libpq tools and the pg driver are pointed at, and what is refused.
import { expect } from 'chai';
import { ConfigError, InvalidInputError } from '../../src/errors.js';
import {
  assertDatabaseName,
  clientConfig,
  libpqEnvironment,
  parseAdminUrl,
  passfileLine,
} from '../../src/integrations/postgres/connection-target.js';

describe('admin URL (NORN_POSTGRES_URL)', () => {
  it('gives libpq host, port, user and SSL settings through the environment, never the password', () => {
    const target = parseAdminUrl('postgres://admin:p%40ss@db.internal:6432/postgres?sslmode=require');
    expect(libpqEnvironment(target)).to.deep.equal({ PGHOST: 'db.internal', PGPORT: '6432', PGUSER: 'admin', PGSSLMODE: 'require' });
    expect(target.password).to.equal('p@ss');
  });

  it('defaults the port, unwraps IPv6 hosts and takes a socket dir from ?host=', () => {
    expect(libpqEnvironment(parseAdminUrl('postgresql://u@[::1]/x'))).to.include({ PGHOST: '::1', PGPORT: '5432' });
    expect(libpqEnvironment(parseAdminUrl('postgres://u@localhost/x?host=/var/run/postgresql'))).to.include({ PGHOST: '/var/run/postgresql' });
  });

  for (const [url, reason] of [
    ['not a url', 'not a URL'],
    ['mysql://u:p@h/db', 'unsupported scheme'],
    ['postgres://h/db', 'no user name'],
    ['postgres://u:p@h/db?options=-c%20x', 'unsupported query parameter options'],
  ] as const) {
    it(`refuses ${url} (${reason})`, () => {
      expect(() => parseAdminUrl(url)).to.throw(ConfigError, reason);
    });
  }

  it('never puts the password in a ConfigError', () => {
    try {
      parseAdminUrl('postgres://u:hunter2@h/db?bogus=1');
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).not.to.contain('hunter2');
    }
  });

  it('escapes : and \\ in the passfile line', () => {
    expect(passfileLine(parseAdminUrl('postgres://u:a%3Ab%5Cc@h/db'))).to.equal('*:*:*:u:a\\:b\\\\c\n');
  });

  it('points the pg driver at the app database, keeping credentials and parameters', () => {
    const config = clientConfig(parseAdminUrl('postgres://u:p@h:1/postgres?sslmode=disable'), 'shop_db');
    expect(config).to.deep.equal({ connectionString: 'postgres://u:p@h:1/shop_db?sslmode=disable' });
  });

  for (const name of ['shop', 'shop_db', 'Shop-2', 'a.b']) {
    it(`accepts the database name ${name}`, () => expect(() => assertDatabaseName(name)).not.to.throw());
  }
  for (const name of ['', 'host=evil', 'postgres://evil/db', 'a b', '../x', 'x'.repeat(64)]) {
    it(`refuses the database name ${JSON.stringify(name)}`, () => expect(() => assertDatabaseName(name)).to.throw(InvalidInputError));
  }
});
