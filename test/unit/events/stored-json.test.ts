import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { topLevelStrings } from '../../../src/events/stored-json.js';

// Duplicate keys are outside the domain: JSON.stringify never writes them, and honouring
// JSON.parse's last-one-wins would mean reading every event to its end. The generated JSON has
// none (objects are built with Object.fromEntries, where a repeated key keeps one slot); the
// corrupted text of the last property can have them, so there a key written twice is not compared.

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const WANTED = ['sourceEventId', 'occurredAt'];
/** Keys whose JSON encoding differs from their text, or that are special on JS objects. */
const ODD_KEYS = ['a"b', 'a\\b', 'a\\"b', '\\', '"', '', '__proto__', 'constructor', '\u2028', '\ud800', 'é😀', '\n', '0'];

/** Fragments that make strings hard to skip: escapes, lookalike keys, JSON punctuation, odd code units. */
const piece = fc.constantFrom(
  ...['"', '\\', '\\"', '\\\\', '\\\\"'],
  ...['"sourceEventId":"', '"occurredAt":', ',"occurredAt":"x"}', '{"sourceEventId":"a"}', 'sourceEventId'],
  ...['{', '}', '[', ']', ':', ',', ' ', '\n', '\u0000', '\u001f'],
  ...['\u2028', '\u2029', '😀', '\ud83d', '\ude00', 'é', 'a'],
);
/**
 * Any code point, lone surrogates included, ASCII as likely as the rest of the BMP and as the
 * astral planes (fast-check's 'binary' unit leaves lone surrogates out and takes most of a second to build).
 */
const codePoint = fc
  .oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xffff }), fc.integer({ min: 0x10000, max: 0x10ffff }))
  .map((cp) => String.fromCodePoint(cp));
const text = fc.oneof(fc.string({ unit: piece }), fc.string({ unit: codePoint }), fc.constantFrom(...WANTED, ...ODD_KEYS));
const key = fc.oneof(fc.constantFrom(...WANTED, ...ODD_KEYS), text);

const { value, object } = fc.letrec<{ value: unknown; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('object'),
  ),
  // Object.fromEntries defines `__proto__` as an own key, as JSON.parse does.
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(Object.fromEntries),
}));

/** A value wrapped in up to 40 arrays and objects, some of them under a wanted key. */
const deep = fc
  .tuple(value, fc.array(fc.constantFrom('[]', ...WANTED), { maxLength: 40 }))
  .map(([inner, wrappers]) => wrappers.reduce<unknown>((v, w) => (w === '[]' ? [v] : { [w]: v }), inner));

/**
 * A stored-event-like object: members with any values, among them wanted and odd keys with
 * string values at any position, so that most runs have something to find.
 */
const event = fc
  .tuple(
    fc.array(fc.tuple(key, fc.oneof(value, deep)), { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...WANTED, ...ODD_KEYS), text), { maxLength: 4 }),
  )
  .map(([members, strings]) => {
    const entries: [string, unknown][] = [...members];
    for (const [at, k, s] of strings) entries.splice(at % (entries.length + 1), 0, [k, s]);
    return Object.fromEntries(entries) as Record<string, unknown>;
  });

const anyJson = fc.oneof({ arbitrary: event, weight: 3 }, object, value, deep);

/**
 * A JSON value and wanted keys: half the time some of its keys that hold strings (so the lookup
 * must succeed), otherwise any of its keys plus fixed and random ones that it may not have.
 */
const jsonAndKeys = fc
  .tuple(
    anyJson,
    fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    fc.boolean(),
    fc.subarray([...WANTED, ...ODD_KEYS], { maxLength: 3 }),
    fc.array(key, { maxLength: 1 }),
  )
  .map(([data, picks, onlyStrings, fixed, random]): [unknown, string[]] => {
    const own = isObject(data) ? Object.keys(data).filter((k) => !onlyStrings || typeof data[k] === 'string') : [];
    const picked = own.length > 0 ? picks.map((n) => own[n % own.length]!) : [];
    return [data, onlyStrings ? picked : [...picked, ...fixed, ...random]];
  });

/**
 * Whatever `topLevelStrings` returned is what JSON.parse says, if JSON.parse accepts the text.
 * The properties check with node:assert: vitest's expect costs tens of microseconds a call.
 */
function assertAgreement(json: string, keys: readonly string[], found: Record<string, string> | undefined): void {
  if (found === undefined) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return;
  }
  assert.ok(isObject(parsed), 'found keys in a JSON value that is not an object');
  assert.deepEqual(Object.keys(found).sort(), [...new Set(keys)].sort());
  for (const k of keys) {
    assert.ok(Object.hasOwn(parsed, k), `no top-level ${JSON.stringify(k)}`);
    assert.equal(JSON.parse(found[k]!), parsed[k]);
  }
}

/** JSON with the whitespace `gaps` (taken in turn, '' among them) around every token. */
function spaced(json: unknown, gaps: readonly string[]): string {
  let n = 0;
  const gap = () => gaps[n++ % gaps.length]!;
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${gap()}${v.map((item, i) => (i > 0 ? `${gap()},${gap()}` : '') + write(item)).join('')}${gap()}]`;
    if (isObject(v)) {
      const members = Object.entries(v).map(([k, item], i) => (i > 0 ? `${gap()},${gap()}` : '') + `${JSON.stringify(k)}${gap()}:${gap()}${write(item)}`);
      return `{${gap()}${members.join('')}${gap()}}`;
    }
    return JSON.stringify(v);
  };
  return gap() + write(json) + gap();
}

const RUNS = { numRuns: 2000 };

describe('topLevelStrings', () => {
  it('agrees with JSON.parse on compact JSON, and finds every wanted key that holds a string', () => {
    fc.assert(
      fc.property(jsonAndKeys, ([data, keys]) => {
        const json = JSON.stringify(data);
        const found = topLevelStrings(json, keys);
        // Again with the same keys array, whose derived lists are now cached: no state carries over.
        assert.deepEqual(topLevelStrings(json, keys), found);
        assertAgreement(json, keys, found);
        const parsed: unknown = JSON.parse(json);
        if (isObject(parsed) && keys.every((k) => Object.hasOwn(parsed, k) && typeof parsed[k] === 'string')) {
          assert.ok(found, 'wanted keys that hold strings not found');
          // The literal is the stored text itself, which for compact JSON is the canonical encoding.
          for (const k of keys) assert.equal(found[k], JSON.stringify(parsed[k]));
        }
      }),
      RUNS,
    );
  });

  it('never disagrees with JSON.parse on JSON with whitespace between tokens', () => {
    const gaps = fc.array(fc.constantFrom('', '', ' ', '\n', '\t', '\r\n', '  '), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(jsonAndKeys, gaps, ([data, keys], g) => {
        const json = spaced(data, g);
        assertAgreement(json, keys, topLevelStrings(json, keys));
      }),
      RUNS,
    );
  });

  it('never throws, nor disagrees with JSON.parse, on arbitrary, truncated and corrupted text', () => {
    const compact = anyJson.map((data) => JSON.stringify(data) ?? '');
    const arbitrary = fc.oneof(
      fc.string({ unit: codePoint }),
      fc.string({ unit: piece }),
      fc.tuple(compact, fc.nat()).map(([json, n]) => json.slice(0, n % (json.length + 1))),
      fc.tuple(compact, fc.nat(), fc.nat(3), fc.string({ unit: piece, maxLength: 2 })).map(
        ([json, at, cut, insert]) => json.slice(0, at % (json.length + 1)) + insert + json.slice((at % (json.length + 1)) + cut),
      ),
    );
    fc.assert(
      fc.property(arbitrary, fc.array(key, { maxLength: 3 }), fc.subarray(WANTED), (json, random, fixed) => {
        const keys = [...fixed, ...random];
        const found = topLevelStrings(json, keys);
        if (keys.some((k) => json.split(`${JSON.stringify(k)}:`).length > 2)) return;
        assertAgreement(json, keys, found);
      }),
      RUNS,
    );
  });

  it('finds a key whose value contains an escaped quote', () => {
    const json = JSON.stringify({ sourceEventId: 'evt_"1"', occurredAt: '2025-01-01T00:00:00Z' });
    expect(topLevelStrings(json, WANTED)).toEqual({ sourceEventId: '"evt_\\"1\\""', occurredAt: '"2025-01-01T00:00:00Z"' });
  });

  it('skips a value that ends in a backslash', () => {
    const json = JSON.stringify({ type: 'a\\', note: '\\"', sourceEventId: 'evt_1' });
    expect(topLevelStrings(json, ['sourceEventId'])).toEqual({ sourceEventId: '"evt_1"' });
  });

  it('keeps escapes exactly as stored', () => {
    const json = JSON.stringify({ sourceEventId: 'a\nb\ud800😀\u2028' });
    expect(topLevelStrings(json, ['sourceEventId'])).toEqual({ sourceEventId: '"a\\nb\\ud800😀\u2028"' });
  });

  it('ignores lookalike keys nested in objects, arrays and strings', () => {
    const json = JSON.stringify({
      data: { sourceEventId: 'nested' },
      raw: [{ sourceEventId: 'in an array' }],
      subject: '","sourceEventId":"in a string',
      sourceEventId: 'top',
    });
    expect(topLevelStrings(json, ['sourceEventId'])).toEqual({ sourceEventId: '"top"' });
  });

  it('returns undefined when a wanted key holds a number, null, boolean, object or array', () => {
    for (const held of [1, null, true, {}, [], { sourceEventId: 'x' }, ['x']]) {
      expect(topLevelStrings(JSON.stringify({ sourceEventId: held }), ['sourceEventId'])).toBeUndefined();
    }
  });

  it('returns undefined when a wanted key is missing, or the object is empty', () => {
    expect(topLevelStrings('{"sourceEventId":"evt_1"}', WANTED)).toBeUndefined();
    expect(topLevelStrings('{}', WANTED)).toBeUndefined();
  });

  it('returns undefined for whitespace between tokens and for values that are not objects', () => {
    for (const json of ['{ "sourceEventId":"x"}', '{"sourceEventId": "x"}', '{"a":"b" ,"sourceEventId":"x"}', '["sourceEventId","x"]', '"sourceEventId"', '', 'null']) {
      expect(topLevelStrings(json, ['sourceEventId'])).toBeUndefined();
    }
  });

  it('matches a key that needs escaping only against itself', () => {
    const json = JSON.stringify({ 'a\nb': 'newline', 'a\\nb': 'backslash' });
    expect(topLevelStrings(json, ['a\nb'])).toEqual({ 'a\nb': '"newline"' });
    expect(topLevelStrings(json, ['a\\nb'])).toEqual({ 'a\\nb': '"backslash"' });
  });

  it('treats __proto__ as an ordinary key', () => {
    const found = topLevelStrings('{"__proto__":"x"}', ['__proto__']);
    expect(found && Object.hasOwn(found, '__proto__') && found.__proto__).toBe('"x"');
  });

  it('returns undefined when a wanted key repeats before the walk ends', () => {
    expect(topLevelStrings('{"sourceEventId":"a","sourceEventId":"b","occurredAt":"t"}', WANTED)).toBeUndefined();
  });

  it('does not take a key for a longer key that begins with it', () => {
    expect(topLevelStrings('{"sourceEventIdx":"no","sourceEventId":"yes"}', ['sourceEventId'])).toEqual({ sourceEventId: '"yes"' });
  });

  it('stops reading once every wanted key is found', () => {
    expect(topLevelStrings('{"sourceEventId":"evt_1","occurredAt":"t","data":{not json', WANTED)).toEqual({
      sourceEventId: '"evt_1"',
      occurredAt: '"t"',
    });
  });
});
