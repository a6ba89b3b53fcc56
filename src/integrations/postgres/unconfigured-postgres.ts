// Stands in for PostgresAdmin when NORN_POSTGRES_URL is not set: an app that declares a database then fails its
// snapshot or migrate step with a message that says what to configure, instead of being silently skipped.
import type { ClientConfig } from 'pg';
import { InvalidInputError } from '../../errors.js';

const missing = () => new InvalidInputError('NORN_POSTGRES_URL', 'the app declares infrastructure.postgres but the receiver has no PostgreSQL admin URL', 409);

export const unconfiguredPostgres = {
  async dump(): Promise<{ size: number }> {
    throw missing();
  },
  async restore(): Promise<void> {
    throw missing();
  },
  clientConfig(): ClientConfig {
    throw missing();
  },
};
