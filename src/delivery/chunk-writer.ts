import type { ServerResponse } from 'node:http';

const CRLF = Buffer.from('\r\n');

/**
 * Writes `parts` as ONE HTTP chunk in one system call. A live fan-out writes a commit's frames
 * to every stream; through `res.write` each part would become a chunk of its own, framed and
 * queued by the response one by one. Once the head is on the wire (`flushHeaders`), the chunk
 * goes straight to the socket: its size line, the parts by reference (shared encodings are
 * not copied), the CRLF, gathered in one `writev` while the socket is corked. The response's
 * own writes (heartbeats, the final chunk) reach the same socket in order after it.
 *
 * The caller has flushed the response head (`res.flushHeaders()`, as `SseStream` does on
 * open). A response that is not chunked (HTTP/1.0), has no socket, or still holds bytes of its
 * own (so a direct write would overtake them) takes `res.write`.
 */
export function writeChunk(res: ServerResponse, parts: readonly Buffer[]): void {
  const socket = res.socket;
  if (!res.chunkedEncoding || socket === null || res.writableLength !== socket.writableLength) {
    res.cork();
    for (const part of parts) res.write(part);
    res.uncork();
    return;
  }
  let size = 0;
  for (const part of parts) size += part.length;
  if (size === 0) return;
  socket.cork();
  // Buffers only: a string among them would make the socket encode and copy the whole batch.
  socket.write(Buffer.from(`${size.toString(16)}\r\n`, 'latin1'));
  for (const part of parts) socket.write(part);
  socket.write(CRLF);
  socket.uncork();
}
