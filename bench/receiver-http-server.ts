import { WebhookReceiver } from '../src/ingest/receiver.js';
import { serveChild } from './child-server.js';
import { INGEST_SECRET } from './ingest-deliveries.js';

/**
 * A reference row of the `ingest` benchmark, not a contender: the bare server plus the relay's
 * own receiver (`WebhookReceiver.receive`: the Stripe signature and timestamp check, the
 * depth-capped parse, normalizing into the event) and nothing after it — no log, no dedup, no
 * commit, no observability. A delivery the receiver accepts gets 200 `{"ok":true}`; any other
 * gets the receiver's 400/401, which fails the run's checks. Other methods get 200 (the
 * readiness probe). Its ratio bounds what any relay that verifies and normalizes can reach here.
 */

const OK = Buffer.from('{"ok":true}');
const HEADERS = { 'content-type': 'application/json', 'content-length': String(OK.length) };
const receiver = new WebhookReceiver({ provider: 'stripe', source: 'stripe', secrets: [INGEST_SECRET] });

serveChild((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method !== 'POST') return void res.writeHead(200, HEADERS).end(OK);
    const signature = req.headers['stripe-signature'];
    const headers = { 'stripe-signature': typeof signature === 'string' ? signature : undefined };
    const received = receiver.receive({ rawBody: Buffer.concat(chunks), headers }, Date.now());
    if (received.ok) res.writeHead(200, HEADERS).end(OK);
    else res.writeHead(received.status).end();
  });
});
