import { serveChild } from './child-server.js';

/**
 * The `ingest` benchmark's baseline: bare `node:http` that reads a POST body to its end,
 * discards it and answers 200 `{"ok":true}`: the HTTP work any webhook receiver does before
 * its own. Any other method gets the same 200 (the readiness probe). Runs in its own process
 * (`bench/ingest.ts` starts it).
 */

const OK = Buffer.from('{"ok":true}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(OK.length) };

serveChild((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // Hold the whole body once, as a receiver must before verifying a signature over it.
    Buffer.concat(chunks);
    res.writeHead(200, HEADERS);
    res.end(OK);
  });
});
