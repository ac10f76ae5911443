import { DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth } from '../http/json-depth.js';

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: 'invalid_json' | 'too_deep' };

/**
 * JSON is UTF-8 (RFC 8259); lenient decoding would turn bad bytes into U+FFFD silently.
 * One decoder serves every body: a call without `stream` starts from a clean state.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a body as JSON, refusing nesting deeper than `maxDepth` containers (`{}` is depth 1)
 * before `JSON.parse` ever runs (see {@link exceedsJsonDepth}).
 */
export function parseJsonBody(raw: Buffer, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonBody {
  if (exceedsJsonDepth(raw, maxDepth)) return { ok: false, reason: 'too_deep' };
  try {
    return { ok: true, value: JSON.parse(UTF8.decode(raw)) };
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
}
