import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newEventSchema } from '../../../src/events/event.js';
import { LogError } from '../../../src/log/log-error.js';
import { validateNewEvents } from '../../../src/log/validate.js';

const NOW = Date.parse('2026-01-02T03:04:05.678Z');

function valid(): Record<string, unknown> {
  return {
    source: 'stripe',
    type: 'payment.failed',
    sourceType: 'payment_intent.payment_failed',
    sourceEventId: 'evt_1',
    subject: 'customer:cus_1',
    customerId: 'cus_1',
    occurredAt: '2025-11-24T16:00:01.000Z',
    data: { amount: 100, nested: { a: [1, 2] } },
    raw: { id: 'evt_1' },
  };
}

function withProto(proto: object | null, fields: Record<string, unknown>): object {
  return Object.assign(Object.create(proto) as object, fields);
}

/** Inputs around every rule of newEventSchema, accepted and refused. */
const cases: Array<[string, () => unknown]> = [
  ['a complete event', valid],
  ['no optional fields', () => ({ source: 'a', type: 't', sourceType: 's', sourceEventId: 'e', data: {}, raw: null })],
  ['no raw key', () => ({ source: 'a', type: 't', sourceType: 's', sourceEventId: 'e', data: {} })],
  ['an inherited raw key', () => withProto({ raw: 1 }, { source: 'a', type: 't', sourceType: 's', sourceEventId: 'e', data: {} })],
  ['optional fields set to undefined', () => ({ ...valid(), subject: undefined, customerId: undefined, occurredAt: undefined, receivedAt: undefined, raw: undefined })],
  ['receivedAt with an offset', () => ({ ...valid(), receivedAt: '2025-11-24T17:00:01+01:00' })],
  ['labels of 256 characters', () => ({ ...valid(), type: 'x'.repeat(256), subject: 'y'.repeat(256) })],
  ['a label of 257 characters', () => ({ ...valid(), sourceEventId: 'x'.repeat(257) })],
  ['an empty type', () => ({ ...valid(), type: '' })],
  ['a numeric id', () => ({ ...valid(), sourceEventId: 42 })],
  ['an empty subject', () => ({ ...valid(), subject: '' })],
  ['a null customerId', () => ({ ...valid(), customerId: null })],
  ['an uppercase source', () => ({ ...valid(), source: 'Stripe' })],
  ['a source of 65 characters', () => ({ ...valid(), source: 'a'.repeat(65) })],
  ['a time without a zone', () => ({ ...valid(), occurredAt: '2025-11-24T16:00:01' })],
  ['February 30th', () => ({ ...valid(), occurredAt: '2025-02-30T16:00:01Z' })],
  ['a time given as a number', () => ({ ...valid(), receivedAt: 1764000000000 })],
  ['an unknown key', () => ({ ...valid(), extra: 1 })],
  ['an inherited unknown key', () => withProto({ extra: 1 }, valid())],
  ['inherited known keys', () => withProto(valid(), {})],
  ['no data', () => ({ ...valid(), data: undefined })],
  ['data that is an array', () => ({ ...valid(), data: [1] })],
  ['data that is a string', () => ({ ...valid(), data: 'x' })],
  ['data without a prototype', () => ({ ...valid(), data: withProto(null, { a: 1 }) })],
  ['data of a class', () => ({ ...valid(), data: new (class Data { a = 1 })() })],
  ['data with a "constructor" key', () => ({ ...valid(), data: { constructor: 'x', a: 1 } })],
  ['data with a "__proto__" key', () => ({ ...valid(), data: JSON.parse('{"__proto__":{"polluted":true},"a":1}') as unknown })],
  ['data with a symbol key', () => ({ ...valid(), data: { [Symbol('s')]: 1, a: 1 } })],
  ['data with a non-enumerable key', () => ({ ...valid(), data: Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false }) })],
  ['an array', () => [valid()]],
  ['null', () => null],
  ['a string', () => 'event'],
];

/** What validateNewEvents gives when zod alone decides. */
function throughZod(input: unknown): { ok: true; data: unknown } | { ok: false; message: string } {
  const parsed = newEventSchema.safeParse(input);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, message: `invalid event: ${z.prettifyError(parsed.error)}` };
}

describe('validateNewEvents', () => {
  it.each(cases)('decides like newEventSchema on %s', (_name, make) => {
    const expected = throughZod(make());
    let outcome: { ok: true; data: unknown } | { ok: false; message: string };
    try {
      const [pending] = validateNewEvents([make() as never], NOW);
      outcome = { ok: true, data: pending };
    } catch (error) {
      expect(error).toBeInstanceOf(LogError);
      expect((error as LogError).code).toBe('invalid_event');
      outcome = { ok: false, message: (error as LogError).message };
    }
    if (!expected.ok) {
      expect(outcome).toEqual(expected);
      return;
    }
    expect(outcome.ok).toBe(true);
    const checked = expected.data as Record<string, unknown>;
    const received = (checked.receivedAt as string | undefined) ?? new Date(NOW).toISOString();
    const completed: Record<string, unknown> = {
      source: checked.source,
      type: checked.type,
      sourceType: checked.sourceType,
      sourceEventId: checked.sourceEventId,
      occurredAt: checked.occurredAt ?? received,
      receivedAt: received,
      data: checked.data,
      raw: checked.raw,
    };
    if (checked.subject !== undefined) completed.subject = checked.subject;
    if (checked.customerId !== undefined) completed.customerId = checked.customerId;
    const pending = (outcome as { data: Record<string, unknown> }).data;
    expect(pending).toStrictEqual(completed);
    expect(Object.keys(pending)).toEqual(Object.keys(completed));
    expect(Object.getPrototypeOf(pending.data)).toBe(Object.prototype);
  });

  it('copies data, so changing the input afterwards does not change the event', () => {
    const input = valid();
    const [pending] = validateNewEvents([input as never], NOW);
    (input.data as Record<string, unknown>).amount = 1;
    expect(pending!.data.amount).toBe(100);
  });

  it('names the batch item a refusal is about', () => {
    expect(() => validateNewEvents([valid() as never, { ...valid(), type: '' } as never], NOW)).toThrow(/batch item 1/);
  });
});
