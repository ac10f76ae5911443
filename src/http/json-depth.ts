/**
 * The deepest JSON nesting any request body may have (`{}` is depth 1): webhooks and `/mcp`.
 * Far beyond what a real payload or JSON-RPC message uses, far below what overflows the stack
 * of recursive code downstream (`JSON.stringify`, `structuredClone`, schema validators).
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/** The body parser's error `type` for a request body nested deeper than allowed. */
export const JSON_TOO_DEEP = 'entity.too.deep';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when `raw` nests containers deeper than `maxDepth`, measured by one linear pass over
 * the bytes before any parser runs: a bracket bomb (`[[[[…`) is refused in O(n) instead of
 * blocking the loop inside a parser, and nothing deep reaches recursive code. The pass tracks
 * strings so brackets inside them do not count; for valid JSON the count is exact, and invalid
 * JSON fails its parse anyway. Scanning bytes is safe for UTF-8 because no multi-byte sequence
 * contains an ASCII byte.
 */
export function exceedsJsonDepth(raw: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  const length = raw.length;
  for (let i = 0; i < length; i++) {
    const byte = raw[i];
    if (byte === QUOTE) {
      // A string, skipped in its own loop: most of a payload's bytes are inside strings.
      for (i++; i < length; i++) {
        const inner = raw[i];
        if (inner === QUOTE) break;
        if (inner === BACKSLASH) i++;
      }
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
