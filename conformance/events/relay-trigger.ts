/**
 * The relay's trigger for the Events conformance suite (CI only; the suite itself knows no
 * relay): a loopback HTTP endpoint the suite POSTs `{ name, seq }` to, which makes the relay
 * produce one event by sending it a signed Standard Webhooks delivery — the same public route
 * an upstream uses. The delivery's type is the subscribed name, a catalogue type the relay
 * keeps as it is; `webhook-id` is unique, so every trigger is a new event, never a retry.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fresh Standard Webhooks secret: `whsec_` and base64 of 24 random bytes. */
export function newStandardSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** Standard Webhooks v1: base64 HMAC-SHA256 over `<id>.<timestamp>.<body>`, keyed with the secret's bytes. */
function sign(secret: string, id: string, seconds: number, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${seconds}.${body}`).digest('base64')}`;
}

/** Starts the trigger endpoint; every POST sends one delivery to `<relayUrl>/webhooks/standard` and answers with the relay's status. */
export async function startRelayTrigger(relayUrl: string, secret: string): Promise<{ url: string; sent: () => number; close(): Promise<void> }> {
  let sent = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        let name = 'payment.failed';
        try {
          const asked = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown };
          if (typeof asked.name === 'string') name = asked.name;
        } catch {
          // no body: the default type
        }
        const body = JSON.stringify({ type: name, timestamp: new Date().toISOString(), data: { customer_id: 'cus_conformance', seq: sent + 1 } });
        const id = `msg_${randomUUID().replaceAll('-', '')}`;
        const seconds = Math.floor(Date.now() / 1000);
        const answer = await fetch(`${relayUrl}/webhooks/standard`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': sign(secret, id, seconds, body) },
          body,
        });
        const text = await answer.text();
        if (answer.ok) sent++;
        res.writeHead(answer.ok ? 200 : 502, { 'content-type': 'application/json' }).end(answer.ok ? text : JSON.stringify({ relayStatus: answer.status, relayBody: text.slice(0, 500) }));
      })().catch((error: unknown) => res.writeHead(502).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/trigger`,
    sent: () => sent,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
