import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Structured JSON lines on stdout. Secrets and payloads never go in: callers log reason
 * codes, ids and counts, and the redaction list is a second line of defence.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    name: 'mcp-event-relay',
    level,
    redact: { paths: ['secret', 'secrets', 'authorization', 'headers.authorization', 'body', 'raw'], censor: '[redacted]' },
  });
}
