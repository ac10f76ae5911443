import type { ReaderKind } from '../schedule.js';
import { FeedReader } from './feed-reader.js';
import { PollReader } from './poll-reader.js';
import { PushLegacyReader, PushModernReader } from './push-readers.js';
import type { Reader, ReaderContext } from './reader.js';
import { WebhookReader } from './webhook-reader.js';

export type { Observation, Reader, ReaderContext } from './reader.js';
export { WebhookReader } from './webhook-reader.js';

export function createReader(slot: number, kind: ReaderKind, filter: readonly string[] | null, start: string, context: ReaderContext): Reader {
  switch (kind) {
    case 'push-legacy':
      return new PushLegacyReader(slot, kind, filter, start, context);
    case 'push-modern':
      return new PushModernReader(slot, kind, filter, start, context);
    case 'poll':
      return new PollReader(slot, kind, filter, start, context);
    case 'feed':
      return new FeedReader(slot, kind, filter, start, context);
    case 'webhook':
      return new WebhookReader(slot, kind, filter, start, context);
  }
}
