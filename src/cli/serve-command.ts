// `norn serve`: load the configuration, start the service, stop it cleanly on SIGINT/SIGTERM.
import pino from 'pino';
import { startService } from '../app.js';
import { describeSettings, loadConfig } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { secretRedactor } from '../redaction/secret-redactor.js';

export async function serveCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: norn serve\n\nStarts the receiver. Settings (environment variables, or a YAML file named by NORN_CONFIG):\n${describeSettings(env)}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`norn: invalid configuration: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  // Every log line passes the same redaction as saga events and API answers: error text from other systems may
  // carry a configured secret anywhere in it, not only under a known key.
  const redactor = secretRedactor(config);
  const log = pino({
    level: config.logLevel,
    base: { service: 'norn' },
    redact: { paths: ['*.token', '*.secret', '*.password', 'headers.authorization'], censor: '***' },
    hooks: { streamWrite: (line) => redactor.redact(line) },
  });
  if (!config.webhookSecret) log.warn('NORN_WEBHOOK_SECRET is not set: webhook deliveries will be refused');
  const service = await startService(config, { log, redactor });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await service.close();
  return 0;
}
