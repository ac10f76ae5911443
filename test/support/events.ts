import type { NewEvent } from '../../src/events/event.js';

let counter = 0;

/** A valid event with a fresh upstream id; override any field. */
export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  counter++;
  return {
    source: 'stripe',
    type: 'payment.failed',
    sourceType: 'payment_intent.payment_failed',
    sourceEventId: `evt_${process.pid}_${counter}`,
    subject: `customer:cus_${counter % 7}`,
    customerId: `cus_${counter % 7}`,
    data: { n: counter },
    raw: { id: `evt_${counter}` },
    ...overrides,
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 26, 12)) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  };
}
