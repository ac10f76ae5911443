import type { EventSourceMessage } from 'eventsource-parser';
import { authHeaders } from './reader.js';
import { SseReaderBase } from './sse-reader-base.js';

/**
 * `GET /feed` with `Last-Event-ID: <position>`: event frames (`id:` the ULID, `event:` the
 * type), `event: truncated` for a gap (`data: {after, resumedAt}`) and `event: heartbeat`
 * naming the position of a filtered feed.
 */
export class FeedReader extends SseReaderBase {
  protected async connectOnce(): Promise<void> {
    const query = this.filter ? `?types=${encodeURIComponent(this.filter.join(','))}` : '';
    const refused = await this.stream({
      method: 'GET',
      path: `/feed${query}`,
      headers: { ...authHeaders, accept: 'text/event-stream', 'last-event-id': this.position },
    });
    if (refused) {
      this.note(`/feed answered ${refused.status} ${refused.text.slice(0, 200)}`);
      throw new Error('refused');
    }
  }

  protected onFrame(frame: EventSourceMessage): void {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(frame.data) as Record<string, unknown>;
    } catch {
      return this.note(`a /feed frame that is not JSON: ${frame.event ?? 'message'} ${frame.data.slice(0, 120)}`);
    }
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    if (frame.event === 'truncated') return this.gap(text(data.after), text(data.resumedAt), 'truncated');
    if (frame.event === 'heartbeat') {
      const cursor = text(data.cursor);
      if (cursor === undefined) return this.note(`a heartbeat without cursor: ${frame.data.slice(0, 120)}`);
      if (frame.id !== undefined && frame.id !== cursor) this.note(`heartbeat id ${frame.id} is not its cursor ${cursor}`);
      return this.positionAt(cursor, 'heartbeat');
    }
    if (frame.id === undefined || frame.event === undefined) return this.note(`a /feed frame without id or event: ${frame.data.slice(0, 120)}`);
    if (data.id !== frame.id || data.type !== frame.event) this.note(`frame ${frame.id} ${frame.event} carries event ${String(data.id)} ${String(data.type)}`);
    this.event(frame.id, frame.event);
  }
}
