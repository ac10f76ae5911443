import type { ServerResponse } from 'node:http';

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
 * Called before a live write: a reader whose earlier frames still leave more than
 * `bufferBytes` unsent is cut (`onCut` first, then the socket) and resumes by cursor. It is
 * checked before the write, not after: Node counts a frame as unsent until the kernel has
 * taken it, so checking after would drop a healthy reader for any frame larger than the bound.
 */
export function cutIfBehind(res: ServerResponse, bufferBytes: number, onCut: () => void): boolean {
  if (res.writableLength <= bufferBytes) return false;
  onCut();
  res.destroy();
  return true;
}
