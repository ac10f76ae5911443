import { request } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Relay } from '../../src/app.js';
import { Inbox } from './sse-reader.js';

/**
 * An SSE response read over node:http that takes nothing from the socket until `resume()`:
 * a reader that stopped reading, so the relay's writes fill the kernel's buffers and its
 * backlog waits. `until` resolves once the first frame matching it has been parsed, and
 * pauses again right there (frames already in that chunk are still parsed).
 */
export async function openPausedSse(relay: Pick<Relay, 'url'>, options: { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string }) {
  const frames = new Inbox<EventSourceMessage>();
  const parser = createParser({ onEvent: (frame) => frames.push(frame) });
  const url = new URL(options.path, relay.url);
  const req = request(url, { method: options.method, headers: options.headers });
  req.end(options.body);
  const [res] = (await new Promise((resolve, reject) => {
    req.once('response', (r) => resolve([r]));
    req.once('error', reject);
  })) as [import('node:http').IncomingMessage];
  if (res.statusCode !== 200) throw new Error(`no stream: ${res.statusCode}`);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => parser.feed(chunk));
  res.on('end', () => frames.end());
  res.on('error', () => frames.end());
  res.pause();
  return {
    frames,
    resume: () => res.resume(),
    pause: () => res.pause(),
    /** Reads until a frame matches, then stops reading again. */
    async readUntil(match: (frame: EventSourceMessage) => boolean, what: string): Promise<void> {
      res.resume();
      await frames.until((all) => all.some(match), what);
      res.pause();
    },
    close: () => req.destroy(),
  };
}
