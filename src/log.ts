import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

// Secrets can reach a log line only through a config object or request headers; pino strips
// them at these paths whatever the caller logs.
const REDACT = [
  'API_KEY',
  'SMTP_URL',
  'SLACK_WEBHOOK_URL',
  'DATABASE_URL',
  '*.API_KEY',
  '*.SMTP_URL',
  '*.SLACK_WEBHOOK_URL',
  '*.DATABASE_URL',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * The service logs to stdout; command-line tools log to stderr so that their stdout stays
 * clean for data (`driftline score - > out.csv`).
 */
export function createLogger(level: LevelWithSilent = 'info', to: 1 | 2 | DestinationStream = 1): Logger {
  const dest = typeof to === 'number' ? pino.destination({ fd: to, sync: to === 2 }) : to;
  return pino({ level, base: { service: 'driftline' }, redact: { paths: REDACT, censor: '[redacted]' } }, dest);
}
