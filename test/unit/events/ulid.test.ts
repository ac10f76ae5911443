import { describe, expect, it } from 'vitest';
import { isUlid, nextUlid, ulidFloor, ulidTime } from '../../../src/events/ulid.js';

describe('ULIDs', () => {
  const t = Date.UTC(2026, 10, 26, 12, 0, 0, 123);

  it('encodes the mint time in the first ten characters', () => {
    const id = nextUlid(null, t);
    expect(isUlid(id)).toBe(true);
    expect(ulidTime(id)).toBe(t);
    expect(id.startsWith(ulidFloor(t).slice(0, 10))).toBe(true);
  });

  it('mints a fresh id when the clock moved ahead of the previous one', () => {
    const prev = nextUlid(null, t);
    expect(ulidTime(nextUlid(prev, t + 1))).toBe(t + 1);
  });

  it('increments the previous id within one millisecond and when the clock went back', () => {
    const prev = nextUlid(null, t);
    const same = nextUlid(prev, t);
    const back = nextUlid(same, t - 5000);
    expect(same > prev && back > same).toBe(true);
    expect(ulidTime(back)).toBe(t);
  });

  it('carries into the time part when the random part is exhausted', () => {
    const prev = ulidFloor(t).slice(0, 10) + 'Z'.repeat(16);
    const next = nextUlid(prev, t);
    expect(next > prev).toBe(true);
    expect(ulidTime(next)).toBe(t + 1);
  });

  it('stays strictly increasing over 100,000 ids minted in one millisecond', () => {
    let prev = nextUlid(null, t);
    for (let i = 0; i < 100_000; i++) {
      const next = nextUlid(prev, t);
      if (!(next > prev)) throw new Error(`${next} is not above ${prev}`);
      prev = next;
    }
    expect(ulidTime(prev)).toBe(t);
  });

  it.each(['', 'not-a-ulid', '01ARZ3NDEKTSV4RRFFQ69G5FA', '01ARZ3NDEKTSV4RRFFQ69G5FAVX', '01arz3ndektsv4rrffq69g5fav', '81ARZ3NDEKTSV4RRFFQ69G5FAV', '01ARZ3NDEKTSV4RRFFQ69G5FAU'])(
    'rejects %j as an id',
    (text) => {
      expect(isUlid(text)).toBe(false);
    },
  );

  it('orders floors by time', () => {
    expect(ulidFloor(t) < nextUlid(null, t)).toBe(true);
    expect(ulidFloor(t + 1) > nextUlid(null, t)).toBe(true);
  });
});
