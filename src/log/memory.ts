import type { LogOptions } from './log-options.js';
import { MemoryStore } from './memory-store.js';
import { StoredEventLog } from './stored-event-log.js';

/** The event log in process memory: the whole contract without durability, for tests and demos. */
export class MemoryEventLog extends StoredEventLog {
  constructor(options: LogOptions = {}) {
    super(new MemoryStore(), options);
  }
}
