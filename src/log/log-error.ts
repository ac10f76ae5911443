/** Why a log operation refused or failed; callers map these to wire errors once, above. */
export type LogErrorCode =
  | 'invalid_event'
  | 'invalid_argument'
  | 'unknown_event'
  | 'not_delivered'
  | 'already_acked'
  | 'lease_lost'
  | 'dead_lettered'
  | 'store_unavailable'
  | 'closed';

export class LogError extends Error {
  override readonly name = 'LogError';
  constructor(
    readonly code: LogErrorCode,
    message: string,
    options?: { cause?: unknown; ids?: string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.ids = options?.ids ?? [];
  }
  /** The event ids the error is about, when it is about some. */
  readonly ids: string[];
}
