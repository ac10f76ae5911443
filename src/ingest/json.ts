export const DEFAULT_MAX_JSON_DEPTH = 64;

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: 'invalid_json' | 'too_deep' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Parses a body as JSON, refusing nesting deeper than `maxDepth` containers (`{}` is depth 1).
 *
 * Depth is measured by one linear pass over the bytes before `JSON.parse` ever runs: a
 * bracket bomb (`[[[[…`) is refused in O(n) instead of blocking the loop inside the parser,
 * and nothing deep reaches the recursive code downstream (`JSON.stringify`, `structuredClone`,
 * tree walkers), which would overflow the stack. The pass tracks strings so brackets inside
 * them do not count; for valid JSON the count is exact, and invalid JSON fails the parse.
 * Scanning bytes is safe for UTF-8 because no multi-byte sequence contains an ASCII byte.
 */
export function parseJsonBody(raw: Buffer, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonBody {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return { ok: false, reason: 'too_deep' };
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  try {
    // JSON is UTF-8 (RFC 8259); lenient decoding would turn bad bytes into U+FFFD silently.
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
