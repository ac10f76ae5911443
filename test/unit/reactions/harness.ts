import type { NewEvent } from '../../../src/events/event.js';
import { MemoryEventLog } from '../../../src/log/memory/event-log.js';
import { MemoryCustomerMemory } from '../../../src/customer-memory/memory/customer-memory.js';
import { builtInHandlers, type BuiltInHandlerOptions } from '../../../src/reactions/built-in-handlers.js';
import type { ReactionHandler } from '../../../src/reactions/handler.js';
import { ReactionRunner } from '../../../src/reactions/runner.js';

let n = 0;

/** A log, a memory and the built-in reactions over them, drained by hand. */
export function reactionsHarness(options: { handlers?: ReactionHandler[]; builtIn?: BuiltInHandlerOptions; leaseMs?: number; maxDeliveries?: number } = {}) {
  const log = new MemoryEventLog({ maxDeliveries: options.maxDeliveries ?? 5 });
  const memory = new MemoryCustomerMemory();
  const handlers = options.handlers ?? builtInHandlers(options.builtIn);
  const runner = new ReactionRunner({ log, memory, handlers, publicUrl: 'https://relay.example.com/', leaseMs: options.leaseMs ?? 30_000 });
  return {
    log,
    memory,
    runner,
    /** Appends upstream events and lets the reactions finish with them. */
    async deliver(...events: NewEvent[]) {
      const results = await log.append(events);
      await runner.drain();
      return results.map((r) => r.event!);
    },
    async derived(type?: string) {
      const { events } = await log.read({ after: null, filter: { sources: ['relay'], ...(type ? { types: [type] } : {}) }, limit: 1000 });
      return events;
    },
    async close() {
      await runner.stop();
      await memory.close();
      await log.close();
    },
  };
}

/** An upstream event of `type` with `data`, for customer `cus_1` unless overridden. */
export function upstream(type: string, data: Record<string, unknown>, overrides: Partial<NewEvent> = {}): NewEvent {
  n++;
  return {
    source: 'stripe',
    type,
    sourceType: type,
    sourceEventId: `up_${process.pid}_${n}`,
    customerId: 'cus_1',
    subject: 'customer:cus_1',
    occurredAt: '2026-01-01T12:00:00.000Z',
    data,
    raw: {},
    ...overrides,
  };
}
