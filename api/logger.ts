// JSON logs. Secrets never reach them: request logs carry no headers or bodies, and the
// redaction list catches any field that would hold a key or webhook secret if one slipped in.
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = ['secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization', 'admin_token', '*.admin_token', 'secret_key', '*.secret_key'];

export function createLogger(stream?: DestinationStream, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  const opts = { level, base: { service: 'stablerail' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return stream ? pino(opts, stream) : pino(opts);
}
export type { Logger };
