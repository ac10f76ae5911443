import type { ServerResponse } from 'node:http';
import type { Event } from '../events/event.js';

/**
 * How SSE writers (push streams, /feed) pace themselves against a reader. A backlog is paced
 * by the reader — the writer waits for {@link drained} — while live events are not waited
 * for: a reader that falls {@link fallenBehind} is cut and resumes by cursor, so one slow
 * client never holds memory for every event it has not read.
 */

/** Resolves once the socket has taken what was written, or has closed. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Checked before a live write, against what earlier frames left unsent: Node counts a frame
 * as unsent until the kernel has taken it, so checking after the write would drop a healthy
 * reader for any frame larger than the bound.
 */
export function fallenBehind(res: ServerResponse, bufferBytes: number): boolean {
  return res.writableLength > bufferBytes;
}

/** JSON of each event, made once however many streams carry it. */
const eventJson = new WeakMap<Event, string>();

export function jsonOf(event: Event): string {
  let json = eventJson.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    eventJson.set(event, json);
  }
  return json;
}
