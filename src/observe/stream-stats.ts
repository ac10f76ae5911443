import type { Logger } from './logger.js';

/** The protocol version each push era speaks: how streams are counted and reported. */
export const ERA_VERSIONS = { legacy: '2025-11-25', modern: '2026-07-28' } as const;

export type StreamEra = keyof typeof ERA_VERSIONS;

/** Told by the stream registry when a push stream opens and closes. */
export interface StreamObserver {
  opened(era: StreamEra, principal: string): void;
  closed(era: StreamEra, principal: string, durationMs: number, framesWritten: number): void;
}

/** Counts open push streams by era and logs one line per open and close. */
export class StreamStats implements StreamObserver {
  readonly #open: Record<StreamEra, number> = { legacy: 0, modern: 0 };

  constructor(private readonly logger: Logger) {}

  opened(era: StreamEra, principal: string): void {
    this.#open[era]++;
    this.logger.info({ era: ERA_VERSIONS[era], principal }, 'push stream opened');
  }

  closed(era: StreamEra, principal: string, durationMs: number, framesWritten: number): void {
    this.#open[era]--;
    this.logger.info({ era: ERA_VERSIONS[era], principal, durationMs: Math.round(durationMs), framesWritten }, 'push stream closed');
  }

  /** Open streams keyed by protocol version. */
  byEra(): Record<string, number> {
    return { [ERA_VERSIONS.legacy]: this.#open.legacy, [ERA_VERSIONS.modern]: this.#open.modern };
  }
}
