import { askForKey, authHeaders } from './api-key.js';

/**
 * Reads GET /feed with fetch (so it can carry the API key) and parses its SSE frames. After a
 * dropped connection it reconnects after the server's `retry:` with `Last-Event-ID`, so no
 * event is missed or shown twice.
 */
export function followFeed({ onEvent, onState, onTruncated }) {
  let lastEventId;
  let retryMs = 2000;

  const dispatch = (frame) => {
    // Every frame with an id moves the resume point: events, gaps and position heartbeats.
    if (frame.id !== undefined) lastEventId = frame.id;
    if (frame.event === 'truncated') return onTruncated();
    if (frame.event === 'heartbeat' || frame.id === undefined || frame.data === '') return;
    onEvent(JSON.parse(frame.data));
  };

  const read = async (body) => {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let frame = { data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === '') {
          dispatch({ id: frame.id, event: frame.event, data: frame.data.join('\n') });
          frame = { data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') frame.data.push(value);
        else if (field === 'event') frame.event = value;
        else if (field === 'id') frame.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
    }
  };

  const connect = async () => {
    for (;;) {
      onState('waiting', 'feed: connecting…');
      try {
        const headers = { ...authHeaders(), accept: 'text/event-stream' };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const res = await fetch('/feed', { headers, cache: 'no-store' });
        if (res.status === 401) {
          onState('error', 'feed: API key needed');
          await askForKey();
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState('ok', 'feed: live');
        await read(res.body);
      } catch {
        // The relay restarted or the network dropped: reconnect below with Last-Event-ID.
      }
      onState('waiting', 'feed: reconnecting…');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  void connect();
}
