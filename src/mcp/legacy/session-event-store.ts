import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

const MAX_MESSAGES = 1000;

/**
 * Resumability for the SDK-managed streams of one legacy session (its GET stream with
 * `resources/updated`, and request streams): the last {@link MAX_MESSAGES} messages, so a
 * client that reconnects with `Last-Event-ID` gets what it missed. Ids are
 * `m<stream>.<seq>`, apart from the `s<n>.<ULID>` ids of push streams, which are replayed
 * from the event log instead.
 */
export class SessionEventStore implements EventStore {
  readonly #messages: { id: string; streamId: StreamId; message: JSONRPCMessage }[] = [];
  readonly #streamKeys = new Map<StreamId, string>();
  #seq = 0;

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    let key = this.#streamKeys.get(streamId);
    if (key === undefined) {
      key = `m${this.#streamKeys.size}`;
      this.#streamKeys.set(streamId, key);
    }
    const id = `${key}.${++this.#seq}`;
    this.#messages.push({ id, streamId, message });
    if (this.#messages.length > MAX_MESSAGES) this.#messages.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    const key = eventId.slice(0, eventId.indexOf('.'));
    for (const [streamId, k] of this.#streamKeys) if (k === key) return streamId;
    return undefined;
  }

  async replayEventsAfter(lastEventId: EventId, { send }: { send: (id: EventId, message: JSONRPCMessage) => Promise<void> }): Promise<StreamId> {
    const streamId = await this.getStreamIdForEventId(lastEventId);
    if (streamId === undefined) throw new Error(`unknown event id ${lastEventId}`);
    const seq = Number(lastEventId.slice(lastEventId.indexOf('.') + 1));
    for (const entry of this.#messages) {
      const entrySeq = Number(entry.id.slice(entry.id.indexOf('.') + 1));
      if (entry.streamId === streamId && entrySeq > seq && Object.keys(entry.message).length > 0) await send(entry.id, entry.message);
    }
    return streamId;
  }
}
