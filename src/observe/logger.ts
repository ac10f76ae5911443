import { pino } from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Structured JSON lines on stdout. Secrets and payloads never go in: callers log reason
 * codes, ids and counts, and the redaction list is a second line of defence. `destination`
 * replaces stdout (an embedding process's own sink).
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options = {
    name: 'mcp-event-relay',
    level,
    redact: { paths: ['secret', 'secrets', 'authorization', 'headers.authorization', 'body', 'raw'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
