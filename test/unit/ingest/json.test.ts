import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../../src/ingest/json.js';

const parse = (text: string | Buffer, maxDepth?: number) => parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), maxDepth);
const nested = (depth: number) => `${'{"a":['.repeat(depth / 2)}1${']}'.repeat(depth / 2)}`;

describe('parseJsonBody', () => {
  it('parses an ordinary object', () => {
    expect(parse('{"id":"evt_1","n":[1,2,{"x":null}]}')).toEqual({ ok: true, value: { id: 'evt_1', n: [1, 2, { x: null }] } });
  });

  it('accepts scalars at the top level (depth 0)', () => {
    expect(parse('"hi"', 1)).toEqual({ ok: true, value: 'hi' });
  });

  it('accepts nesting exactly at the default cap of 64 and refuses 65', () => {
    expect(parse(nested(64))).toMatchObject({ ok: true });
    expect(parse(`[${nested(64)}]`)).toEqual({ ok: false, reason: 'too_deep' });
  });

  it('counts siblings once: depth is nesting, not the number of containers', () => {
    expect(parse(`[${'[],'.repeat(1000)}[]]`, 2)).toMatchObject({ ok: true });
  });

  it('ignores brackets inside strings', () => {
    expect(parse('{"note":"[[[[{{{{"}', 1)).toEqual({ ok: true, value: { note: '[[[[{{{{' } });
  });

  it('is not fooled by escaped quotes inside strings', () => {
    expect(parse('{"a":"\\"[[[","b":"\\\\"}', 1)).toEqual({ ok: true, value: { a: '"[[[', b: '\\' } });
  });

  it('refuses a ten-megabyte bracket bomb without handing it to JSON.parse', () => {
    const bomb = Buffer.alloc(10_000_000, '[');
    expect(parse(bomb)).toEqual({ ok: false, reason: 'too_deep' });
  });

  it('refuses a deep bomb hidden behind an unterminated string as invalid JSON', () => {
    expect(parse(`"${'['.repeat(1000)}`)).toEqual({ ok: false, reason: 'invalid_json' });
  });

  it.each([
    ['an empty body', ''],
    ['truncated JSON', '{"id":'],
    ['trailing garbage', '{} x'],
    ['JavaScript rather than JSON', "{id:'x'}"],
  ])('refuses %s as invalid_json', (_label, text) => {
    expect(parse(text)).toEqual({ ok: false, reason: 'invalid_json' });
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    expect(parse(Buffer.from([0x22, 0xff, 0xfe, 0x22]))).toEqual({ ok: false, reason: 'invalid_json' });
  });

  it('decodes the next body cleanly after one that stopped mid-character', () => {
    expect(parse(Buffer.from([0x22, 0xe6, 0x97]))).toEqual({ ok: false, reason: 'invalid_json' });
    expect(parse('"\u00e9 é"')).toEqual({ ok: true, value: 'é é' });
  });

  it('keeps multi-byte UTF-8 text intact', () => {
    expect(parse('{"name":"Zoë [日本]"}', 1)).toEqual({ ok: true, value: { name: 'Zoë [日本]' } });
  });
});
