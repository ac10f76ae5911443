import type { EventLog } from '../../src/log/event-log.js';
import type { LogOptions } from '../../src/log/log-options.js';

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

/** Resolves when `predicate` holds, checking after every macrotask; fails after `ms`. */
export async function until(predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
