import { createServer } from 'node:http';

/**
 * The `ingest` benchmark's baseline: bare `node:http` that reads a POST body to its end,
 * discards it and answers 200 `{"ok":true}`: the HTTP work any webhook receiver does before
 * its own. Any other method gets the same 200 (the readiness probe). Runs in its own process
 * (`bench/ingest.ts` starts it) and listens on HOST:PORT.
 */

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const OK = Buffer.from('{"ok":true}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(OK.length) };

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    // Hold the whole body once, as a receiver must before verifying a signature over it.
    Buffer.concat(chunks);
    res.writeHead(200, HEADERS);
    res.end(OK);
  });
});

server.listen(port, host, () => {
  const address = server.address();
  if (address !== null && typeof address === 'object') console.log(JSON.stringify({ url: `http://${host}:${address.port}` }));
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
