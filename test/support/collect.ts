import type { Event } from '../../src/events/event.js';
import { type Gap, openReader, type ReaderOptions } from '../../src/delivery/reader.js';
import type { EventLog } from '../../src/log/event-log.js';

/**
 * A reader on the one delivery path that records what it is handed: decoded events, gaps,
 * failures, and when it went live. `pause` (if given) is awaited for each backlog page.
 */
export function collect(log: EventLog, options: ReaderOptions, pause?: () => Promise<void>) {
  const events: Event[] = [];
  const gaps: Gap[] = [];
  const errors: Error[] = [];
  let resolveLive!: () => void;
  const live = new Promise<void>((resolve) => (resolveLive = resolve));
  const reader = openReader(log, options, {
    events: (batch, isLive) => {
      for (const event of batch) events.push(JSON.parse(event.json) as Event);
      return isLive || !pause ? undefined : pause();
    },
    gap: (gap) => void gaps.push(gap),
    live: resolveLive,
    failed: (error) => void errors.push(error),
  });
  return { events, gaps, errors, live, reader, ids: () => events.map((e) => e.id) };
}
