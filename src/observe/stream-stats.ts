import type { Logger } from './logger.js';

/** The protocol version each push era speaks: how streams are counted and reported. */
export const ERA_VERSIONS = { legacy: '2025-11-25', modern: '2026-07-28' } as const;

export type StreamEra = keyof typeof ERA_VERSIONS;

/** Who a stream serves: a push stream of one era, or a `/feed`. */
export type StreamKind = StreamEra | 'feed';

/** How one stream went: its end reason (a bounded set of codes) and the error behind a failure. */
export interface StreamSummary {
  durationMs: number;
  framesWritten: number;
  reason: string;
  error?: Error;
}

/** Told when push streams and feeds open and close. */
export interface StreamObserver {
  opened(kind: StreamKind, principal: string): void;
  closed(kind: StreamKind, principal: string, summary: StreamSummary): void;
}

const LABELS: Record<StreamKind, string> = { ...ERA_VERSIONS, feed: 'feed' };

/**
 * Counts open push streams by era (the feed route counts its own), logs one line per open and close — every close with its
 * reason, a failure with its error — and hands each end to `onEnd` (the metric by reason).
 */
export class StreamStats implements StreamObserver {
  readonly #open: Record<StreamEra, number> = { legacy: 0, modern: 0 };

  constructor(
    private readonly logger: Logger,
    private readonly onEnd: (stream: string, reason: string) => void = () => undefined,
  ) {}

  opened(kind: StreamKind, principal: string): void {
    if (kind !== 'feed') this.#open[kind]++;
    this.logger.info({ stream: LABELS[kind], principal }, 'stream opened');
  }

  closed(kind: StreamKind, principal: string, summary: StreamSummary): void {
    if (kind !== 'feed') this.#open[kind]--;
    const { durationMs, framesWritten, reason, error } = summary;
    const line = { stream: LABELS[kind], principal, reason, durationMs: Math.round(durationMs), framesWritten };
    if (error) this.logger.error({ ...line, err: error }, 'stream ended by a failure');
    else this.logger.info(line, 'stream ended');
    this.onEnd(LABELS[kind], reason);
  }

  /** Open push streams keyed by protocol version. */
  byEra(): Record<string, number> {
    return { [ERA_VERSIONS.legacy]: this.#open.legacy, [ERA_VERSIONS.modern]: this.#open.modern };
  }
}
