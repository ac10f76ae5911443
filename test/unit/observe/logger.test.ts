import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineSink } from '../../../src/observe/logger.js';

/** A real stream whose reader takes nothing until `drain()`: what a stalled stdout reader looks like. */
function stalledReader() {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      written.push(String(chunk));
      pending.push(callback);
    },
  });
  return {
    stream,
    written,
    drain() {
      for (const callback of pending.splice(0)) callback();
    },
  };
}

describe('log line sink', () => {
  it('holds at most the bound for a reader that does not read, then says how many lines it dropped', async () => {
    const reader = stalledReader();
    const sink = lineSink(reader.stream, 1000);
    const line = `${JSON.stringify({ msg: 'x'.repeat(80) })}\n`;
    for (let i = 0; i < 100; i++) sink.write(line);
    expect(reader.stream.writableLength).toBeLessThanOrEqual(1000);
    while (reader.stream.writableLength > 0) {
      reader.drain();
      await new Promise((resolve) => setImmediate(resolve));
    }
    sink.write(line);
    reader.drain();
    await new Promise((resolve) => setImmediate(resolve));
    const lines = reader.written.map((w) => JSON.parse(w) as { msg: string; dropped?: number });
    const at = lines.findIndex((l) => l.dropped !== undefined);
    expect(lines[at]).toMatchObject({ msg: 'log lines dropped: stdout is not being read' });
    // Every line was either written before the notice or counted in it; the next line follows it.
    expect(at + lines[at]!.dropped!).toBe(100);
    expect(at).toBeGreaterThan(0);
    expect(reader.written.slice(at + 1)).toEqual([line]);
  });

  it('stops writing once the stream failed (the reader is gone)', () => {
    const reader = stalledReader();
    const sink = lineSink(reader.stream);
    reader.stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    sink.write('{"msg":"after"}\n');
    expect(reader.written).toEqual([]);
  });
});
