import { buildEvent, subjectOf } from '../build-event.js';
import { field, header, num, str } from '../fields.js';
import type { WebhookProvider } from '../provider.js';
import { reject } from '../rejection.js';
import { anyMatch, hmacSha256, usableSecrets } from '../signature.js';

/** Lowercase hex only, as GitHub sends it; the legacy SHA-1 `X-Hub-Signature` is not accepted. */
const SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * GitHub events have no catalogue mapping: every delivery is `<source>.<event>.<action>`
 * (e.g. `github.issues.opened`), about `repo:<owner>/<name>`. GitHub payloads carry no
 * event time, so `occurredAt` is left to the log (received time).
 */
export const githubProvider: WebhookProvider = {
  kind: 'github',

  // Only the body is signed (no timestamp, and X-GitHub-Delivery/-Event are bare headers):
  // dedup stops honest redeliveries, TLS keeps deliveries from being captured and replayed.
  verify(req, { secrets }) {
    const received = header(req.headers, 'x-hub-signature-256');
    if (received === null) return reject('missing_signature', 'X-Hub-Signature-256 header is missing');
    if (!SIGNATURE.test(received)) return reject('malformed_signature', 'X-Hub-Signature-256 is not sha256=<64 lowercase hex>');
    const expected = usableSecrets(secrets).map((secret) => `sha256=${hmacSha256(secret, [req.rawBody], 'hex')}`);
    if (!anyMatch(expected, [received])) return reject('signature_mismatch', 'the HMAC matches no configured secret');
    return { ok: true };
  },

  normalize(source, payload, req) {
    const event = header(req.headers, 'x-github-event');
    const action = str(field(payload, 'action'));
    const repository = str(field(payload, 'repository', 'full_name'));
    const item = field(payload, 'issue') ?? field(payload, 'pull_request');
    return buildEvent({
      source,
      // A redelivery reuses the GUID, which is what makes it a duplicate.
      sourceEventId: header(req.headers, 'x-github-delivery'),
      sourceType: event !== null && action !== null ? `${event}.${action}` : event,
      subject: subjectOf('repo', repository),
      data: {
        event,
        action,
        repository,
        sender: str(field(payload, 'sender', 'login')),
        number: num(field(item, 'number')),
        title: str(field(item, 'title')),
        hookId: header(req.headers, 'x-github-hook-id'),
      },
      raw: payload,
    });
  },
};
