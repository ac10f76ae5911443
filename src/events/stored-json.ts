const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;

/** The index just past the JSON string whose opening quote is at `start`, or -1. */
function stringEnd(json: string, start: number): number {
  for (let q = json.indexOf('"', start + 1); q >= 0; q = json.indexOf('"', q + 1)) {
    // A quote closes the string unless an odd run of backslashes escapes it; the run cannot
    // reach past the opening quote, so it never counts backslashes of the text before.
    let backslashes = 0;
    while (json.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
  }
  return -1;
}

/**
 * The index of the `,` or `}` that follows the object member value starting at `start`, or -1
 * (for a string: the index just past it, which in compact JSON is that separator).
 * Only strings and bracket depth are tracked: the text is assumed to be JSON, and what is
 * not is caught by the caller (which accepts a wanted value only when it is a whole string).
 */
function valueEnd(json: string, start: number): number {
  if (json.charCodeAt(start) === QUOTE) return stringEnd(json, start);
  let depth = 0;
  for (let i = start; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      i = stringEnd(json, i) - 1;
      if (i < 0) return -1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      if (depth === 0) return i;
      depth--;
    } else if (c === ',' && depth === 0) return i;
  }
  return -1;
}

interface Wanted {
  /** The keys, each once. */
  names: string[];
  /**
   * Each name as JSON.stringify writes it, quotes included: a key of the text is matched on
   * its encoding, so it is neither sliced nor decoded, and a name with quotes, backslashes or
   * control characters matches only itself.
   */
  encodings: string[];
  /** Every name as an own property, undefined until found: a copy starts each result, so a repeat shows. */
  shape: Record<string, string | undefined>;
}

/** Worked out once per keys array, which callers keep as a constant. */
const wantedOf = new WeakMap<readonly string[], Wanted>();

function wanted(keys: readonly string[]): Wanted {
  let w = wantedOf.get(keys);
  if (w === undefined) {
    const names = [...new Set(keys)];
    // Object.fromEntries defines `__proto__` as an own key (as JSON.parse does), so setting it
    // later stores a string instead of changing the result's prototype.
    w = { names, encodings: names.map((k) => JSON.stringify(k)), shape: Object.fromEntries(names.map((k) => [k, undefined])) };
    wantedOf.set(keys, w);
  }
  return w;
}

/**
 * The raw JSON string literals (quotes and escapes kept, exactly as in `json`) of the wanted
 * top-level keys of a compact JSON object, or undefined when any is missing, is not a string,
 * or the text is not in the expected compact shape (the caller then decodes with JSON.parse).
 *
 * Replaying a stored event needs two of its strings, and decoding a 1–2 KB event (and encoding
 * it again) only for them would cost more than the rest of the replay. This walks the
 * top-level members of the text, skipping values without decoding them, and stops as soon
 * as it has every wanted key.
 *
 * Compact means as `JSON.stringify` writes it: no whitespace between tokens (inside strings
 * is fine). Duplicate keys are outside the domain, as `JSON.stringify` never writes them: a
 * wanted key met twice gives undefined, but one repeated after the walk has stopped is not
 * seen, where `JSON.parse` would keep that last value.
 *
 * @param json The text of a JSON value, normally `JSON.stringify` output.
 * @param keys The wanted top-level keys (repeats allowed). Pass the same array each time: what
 *   is derived from it is kept per array.
 * @returns Each wanted key's literal, on which `JSON.parse` gives the key's value; or undefined.
 */
export function topLevelStrings<K extends string>(json: string, keys: readonly K[]): Record<K, string> | undefined {
  if (json.charCodeAt(0) !== OPEN_BRACE) return undefined;
  const { names, encodings, shape } = wanted(keys);
  const found = { ...shape };
  let missing = names.length;
  for (let i = 1; missing > 0; ) {
    if (json.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = stringEnd(json, i);
    if (keyEnd < 0 || json.charCodeAt(keyEnd) !== COLON) return undefined;
    const end = valueEnd(json, keyEnd + 1);
    if (end < 0) return undefined;
    for (let w = 0; w < encodings.length; w++) {
      const encoding = encodings[w]!;
      if (encoding.length !== keyEnd - i || !json.startsWith(encoding, i)) continue;
      const name = names[w]!;
      if (json.charCodeAt(keyEnd + 1) !== QUOTE || found[name] !== undefined) return undefined;
      found[name] = json.slice(keyEnd + 1, end);
      missing--;
      break;
    }
    // `end` is the separator after the member. Past a `,` comes the next key's quote; past
    // the closing `}`, or whitespace of non-compact text, valid JSON has no quote: the walk ends.
    i = end + 1;
  }
  return found as Record<K, string>;
}
