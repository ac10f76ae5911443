import { describe, expect, it } from 'vitest';
import type { ProviderKind } from '../../../src/ingest/provider.js';
import { webhookProviders } from '../../../src/ingest/providers/index.js';
import { WebhookReceiver } from '../../../src/ingest/receiver.js';
import { NOW, T, oracleSign, request } from '../../support/webhook-oracles.js';

export interface VerifierCase {
  kind: ProviderKind;
  name: string;
  secret: string;
  previousSecret: string;
  /** A valid delivery body. */
  body: string;
  /** Non-signature headers the normalizer needs (topic, delivery id, …). */
  headers: Record<string, string>;
  signatureHeader: string;
  /** The signature header's value carrying `mac` in place of the real MAC. */
  withMac(mac: string, signed: Record<string, string>): string;
  /** Whether the scheme signs a timestamp (and so must enforce the tolerance). */
  timestamped: boolean;
}

/**
 * The checks every provider must pass, written once and run per provider (signatures from
 * the official libraries, see oracles.ts).
 */
export function describeVerifier(c: VerifierCase): void {
  const provider = webhookProviders[c.kind];
  const options = (secrets: string[], nowMs = NOW) => ({ secrets, nowMs, toleranceS: 300 });
  const signed = (body = c.body, secret = c.secret, atMs = T) => oracleSign(c.kind, body, secret, atMs, c.headers);
  const macOf = (headers: Record<string, string>) => {
    const value = headers[c.signatureHeader] ?? '';
    return /([A-Za-z0-9+/]{43}=|[0-9a-f]{64})(?:$|[ ,])/.exec(value)?.[1] ?? '';
  };

  describe(`${c.name} signature verification (shared suite)`, () => {
    it(`accepts a ${c.name} delivery signed with the current secret`, async () => {
      expect(provider.verify(request(c.body, await signed()), options([c.secret]))).toEqual({ ok: true });
    });

    it(`accepts a ${c.name} delivery signed with the previous secret while rotating`, async () => {
      const headers = await signed(c.body, c.previousSecret);
      expect(provider.verify(request(c.body, headers), options([c.secret, c.previousSecret]))).toEqual({ ok: true });
    });

    it(`accepts a ${c.name} delivery when the configured secret has a trailing newline`, async () => {
      expect(provider.verify(request(c.body, await signed()), options([`${c.secret}\n`]))).toEqual({ ok: true });
    });

    it(`rejects a ${c.name} delivery whose body was tampered with`, async () => {
      const tampered = c.body.replace(/\d/, (d) => String((Number(d) + 1) % 10));
      expect(tampered).not.toBe(c.body);
      expect(provider.verify(request(tampered, await signed()), options([c.secret]))).toMatchObject({
        ok: false,
        status: 401,
        reason: 'signature_mismatch',
      });
    });

    it(`rejects a ${c.name} delivery signed with a secret we do not hold`, async () => {
      const headers = await signed(c.body, c.previousSecret);
      expect(provider.verify(request(c.body, headers), options([c.secret]))).toMatchObject({ reason: 'signature_mismatch' });
    });

    it(`rejects every ${c.name} delivery when no usable secret is configured`, async () => {
      expect(provider.verify(request(c.body, await signed()), options(['', ' \n']))).toMatchObject({ reason: 'signature_mismatch' });
    });

    it(`rejects a ${c.name} delivery without a signature header`, async () => {
      const { [c.signatureHeader]: _dropped, ...headers } = await signed();
      expect(provider.verify(request(c.body, headers), options([c.secret]))).toMatchObject({
        ok: false,
        status: 400,
        reason: 'missing_signature',
      });
    });

    const garbled: [string, (mac: string) => string][] = [
      ['garbled', () => 'not a signature!'],
      ['non-ASCII (same length in JS characters)', (mac) => `é${mac.slice(1)}`],
      ['odd-length', (mac) => mac.slice(0, -1)],
    ];
    for (const [label, garble] of garbled) {
      it(`rejects a ${c.name} delivery with a ${label} signature, without throwing`, async () => {
        const headers = await signed();
        const value = c.withMac(garble(macOf(headers)), headers);
        expect(provider.verify(request(c.body, { ...headers, [c.signatureHeader]: value }), options([c.secret]))).toMatchObject({
          ok: false,
          status: 400,
          reason: 'malformed_signature',
        });
      });
    }

    if (c.timestamped) {
      for (const [label, offsetS] of [['past', -301], ['future', 301]] as const) {
        it(`rejects a ${c.name} delivery whose timestamp is 301 s in the ${label}`, async () => {
          const headers = await signed(c.body, c.secret, NOW + offsetS * 1000);
          expect(provider.verify(request(c.body, headers), options([c.secret]))).toMatchObject({
            status: 401,
            reason: 'timestamp_out_of_tolerance',
          });
        });
      }

      it(`accepts a ${c.name} delivery exactly 300 s either side of now`, async () => {
        for (const offsetS of [-300, 300]) {
          const headers = await signed(c.body, c.secret, NOW + offsetS * 1000);
          expect(provider.verify(request(c.body, headers), options([c.secret]))).toEqual({ ok: true });
        }
      });
    }

    it(`rejects a signed ${c.name} body nested deeper than the cap`, async () => {
      const receiver = new WebhookReceiver({ provider: c.kind, source: c.kind, secrets: [c.secret] });
      const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
      expect(receiver.receive(request(deep, await signed(deep)), NOW)).toMatchObject({ status: 400, reason: 'too_deep' });
    });

    it(`reports the missing signature, not the body, for an unsigned ${c.name} bomb`, async () => {
      const { [c.signatureHeader]: _dropped, ...headers } = await signed();
      const receiver = new WebhookReceiver({ provider: c.kind, source: c.kind, secrets: [c.secret] });
      const bomb = '['.repeat(100_000);
      expect(receiver.receive(request(bomb, headers), NOW)).toMatchObject({ status: 400, reason: 'missing_signature' });
    });
  });
}
