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

/** Log bytes held for a reader that does not read; past this, lines are dropped and counted. */
export const MAX_QUEUED_LOG_BYTES = 8 * 1024 * 1024;

/**
 * Lines to `process.stdout`, which never blocks or spins: node writes a pipe without blocking
 * (queuing what its reader has not taken yet, dropped at exit), and once stdout fails — EPIPE
 * when the reader is gone — nothing more is written. pino's own destination would flush
 * synchronously at exit, and retries a broken pipe there forever. One for the process.
 */
function stdoutLines(): pino.DestinationStream {
  stdout ??= lineSink(process.stdout);
  return stdout;
}

/**
 * Writes lines to `stream` until it fails. A reader that is alive but does not read makes the
 * queue grow: past `maxQueued` bytes lines are dropped, and the next line that fits is preceded
 * by one that says how many were lost.
 */
export function lineSink(stream: NodeJS.WritableStream & { writableLength: number }, maxQueued = MAX_QUEUED_LOG_BYTES): pino.DestinationStream {
  let open = true;
  let dropped = 0;
  stream.on('error', () => {
    open = false;
  });
  return {
    write(line: string) {
      if (!open) return;
      if (stream.writableLength + line.length > maxQueued) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        stream.write(`${JSON.stringify({ level: 40, time: Date.now(), name: 'mcp-event-relay', msg: 'log lines dropped: stdout is not being read', dropped })}\n`);
        dropped = 0;
      }
      stream.write(line);
    },
  };
}
