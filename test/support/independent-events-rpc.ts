/** What the independent Events server's parts share: the draft's error codes, the error they throw, and a record guard. */

/** The draft's error codes and the 2026-07-28 ones it relies on, in one place. */
export const CODES = {
  parseError: -32700,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  notFound: -32011,
  forbidden: -32012,
  resourceExhausted: -32013,
  unsupported: -32014,
  callbackEndpoint: -32015,
  headerMismatch: -32020,
  missingCapability: -32021,
  unsupportedVersion: -32022,
} as const;

/** A JSON-RPC error the server answers with (`status`: the HTTP status of the answer). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    readonly status = 200,
  ) {
    super(message);
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An optional integer parameter of at least `min`; -32602 otherwise. */
export function count(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < min) throw new RpcError(CODES.invalidParams, `${name} must be an integer of at least ${min}`);
  return value as number;
}
