export const DEFAULT_MAX_JSON_DEPTH = 64;

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: 'invalid_json' | 'too_deep' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
/**
 * JSON is UTF-8 (RFC 8259); lenient decoding would turn bad bytes into U+FFFD silently.
 * One decoder serves every body: a call without `stream` starts from a clean state.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

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
      if (++depth > maxDepth) return { ok: false, reason: 'too_deep' };
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  try {
    return { ok: true, value: JSON.parse(UTF8.decode(raw)) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
