import type { EventLog } from '../../src/log/event-log.js';
import type { LogOptions } from '../../src/log/log-options.js';
import { manualClock, newEvent } from '../support/events.js';

/** Opens a fresh, empty log of one backend; the suite closes it. */
export type LogFactory = (options: LogOptions) => EventLog | Promise<EventLog>;

/** Opens logs for one test and closes every one of them afterwards. */
export function logPool(factory: LogFactory) {
  const open: EventLog[] = [];
  return {
    async create(options: LogOptions = {}): Promise<EventLog> {
      const log = await factory(options);
      open.push(log);
      return log;
    },
    async closeAll(): Promise<void> {
      await Promise.all(open.splice(0).map((log) => log.close()));
    },
  };
}

/** A pooled log holding `count` events, on a clock the test moves: leases of 10 s, dead-lettered after 3 deliveries. */
export async function seededLog(pool: ReturnType<typeof logPool>, count: number, options: LogOptions = {}) {
  const clock = manualClock();
  const log = await pool.create({ now: clock.now, leaseMs: 10_000, maxDeliveries: 3, ...options });
  const ids = (await log.append(Array.from({ length: count }, () => newEvent()))).map((r) => r.id);
  return { log, ids, clock };
}

/** Resolves when `predicate` holds, checking after every macrotask; fails after `ms`. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
