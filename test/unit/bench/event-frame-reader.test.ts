import { describe, expect, it } from 'vitest';
import { EventFrameReader, type SubscriberKind } from '../../../bench/latency-subscriber.js';

/** The `latency` benchmark's reader must find every event frame whatever the reads' boundaries. */

const eventFrame = (id: string, n: number) =>
  `id: ${id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/events/event","params":{"n":${n},"pad":"${'x'.repeat(n * 37)}"}}\n\n`;
const heartbeat = (id: string) => `id: ${id}\nevent: message\ndata: {"jsonrpc":"2.0","method":"notifications/heartbeat"}\n\n`;
const feedEvent = (id: string, n: number) => `id: ${id}\nevent: order.shipped\ndata: {"n":${n},"pad":"${'y'.repeat(n * 29)}"}\n\n`;
const feedHeartbeat = (id: string) => `id: ${id}\nevent: heartbeat\ndata: {}\n\n`;

function body(kind: SubscriberKind): { bytes: Buffer; ids: string[] } {
  const ids: string[] = [];
  let text = 'retry: 1000\n\n';
  for (let n = 0; n < 40; n++) {
    const id = `01KC${String(n).padStart(22, '0')}`;
    ids.push(id);
    text += kind === 'feed' ? feedEvent(id, n) : eventFrame(kind === 'legacy' ? `7.${id}` : id, n);
    if (n % 7 === 3) text += kind === 'feed' ? feedHeartbeat(id) : heartbeat(id);
  }
  return { bytes: Buffer.from(text, 'latin1'), ids };
}

/** Feeds `bytes` in reads cut at `cuts`, each read in a buffer of its own that is overwritten after the call, as a socket's read buffer is. */
function read(kind: SubscriberKind, bytes: Buffer, cuts: number[]): string[] {
  const seen: string[] = [];
  const reader = new EventFrameReader(kind, { event: (frame, start, end) => seen.push(frame.toString('latin1', start, end)) });
  const scratch = Buffer.alloc(bytes.length);
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    const view = scratch.subarray(0, to - from);
    bytes.copy(view, 0, from, to);
    reader.feed(view);
    view.fill(0);
    from = to;
  }
  return seen;
}

describe('EventFrameReader (bench latency)', () => {
  for (const kind of ['modern', 'legacy', 'feed'] as const) {
    it(`finds every ${kind} event frame, and nothing else, with a read cut at any byte`, () => {
      const { bytes, ids } = body(kind);
      for (let cut = 1; cut < bytes.length; cut++) expect(read(kind, bytes, [cut])).toEqual(ids);
    });

    it(`finds every ${kind} event frame in reads of one to three bytes, and in one read`, () => {
      const { bytes, ids } = body(kind);
      const cuts: number[] = [];
      for (let at = 1; at < bytes.length; at += 1 + (at % 3)) cuts.push(at);
      expect(read(kind, bytes, cuts)).toEqual(ids);
      expect(read(kind, bytes, [])).toEqual(ids);
    });
  }
});
