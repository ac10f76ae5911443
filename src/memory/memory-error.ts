export type MemoryErrorCode = 'invalid_input' | 'store_unavailable';

/** A local error of the customer memory. */
export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
