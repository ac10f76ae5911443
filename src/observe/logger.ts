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
  return pino(options, destination ?? stdoutLines());
}

let stdout: pino.DestinationStream | undefined;

/**
 * Lines to `process.stdout`, which never blocks or spins: node writes a pipe without blocking
 * (queuing what its reader has not taken yet, dropped at exit), and once stdout fails — EPIPE
 * when the reader is gone — nothing more is written. pino's own destination would flush
 * synchronously at exit, and retries a broken pipe there forever. One for the process.
 */
function stdoutLines(): pino.DestinationStream {
  if (stdout) return stdout;
  let open = true;
  process.stdout.on('error', () => {
    open = false;
  });
  stdout = {
    write(line: string) {
      if (open) process.stdout.write(line);
    },
  };
  return stdout;
}
