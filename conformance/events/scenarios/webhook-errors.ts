/**
 * What `events/subscribe` must refuse: an unknown event name, a secret that is not a Standard
 * Webhooks secret, a callback URL that is not https, and an endpoint that fails verification
 * (one that answers 404, one that answers but does not echo the challenge) — the last two
 * with nothing created.
 */
import { DRAFT, type Rule, type Scenario, describeReply, isObject } from '../suite.js';
import type { Reply } from '../wire.js';
import { newWebhookSecret } from '../webhook-receiver.js';
import { NO_SUCH_TYPE } from './errors.js';
import { subscribeParams, unsubscribe, withReceiver } from './webhook.js';

/**
 * A plain-http callback on TEST-NET-1 (RFC 5737): an IP literal, so refusing it needs no
 * name lookup, and an address no network routes, so nothing is reached even by a server
 * that tried.
 */
const PLAIN_HTTP_URL = 'http://192.0.2.1/hook';

const unknownEvent: Rule = {
  id: 'webhook-unknown-event',
  level: 'must',
  quote: '-32011 NotFound: A referenced entity does not exist — an unknown event name ... `data.kind` ("event" | "subscription") MAY disambiguate.',
  source: DRAFT,
};
const badSecret: Rule = {
  id: 'webhook-invalid-secret',
  level: 'must',
  quote: 'Servers MUST reject a `delivery.secret` that is not `whsec_` followed by base64 decoding to 24–64 bytes (per Standard Webhooks)',
  source: DRAFT,
};
const httpsOnly: Rule = {
  id: 'webhook-https-required',
  level: 'must',
  quote: 'Callback URLs MUST use `https://`. Servers MUST reject `events/subscribe` with a non-`https` `delivery.url` (`-32602 InvalidParams`).',
  source: DRAFT,
};
const refused: Rule = {
  id: 'webhook-verification-http-error',
  level: 'must',
  quote:
    '-32015 CallbackEndpointError: A client-supplied callback endpoint failed verification or could not be reached (webhook mode only). `data.reason` is one of the `lastError` categories (`connection_refused`, `timeout`, `tls_error`, `http_4xx`, `http_5xx`, `challenge_failed`).',
  source: DRAFT,
};
const noEcho: Rule = {
  id: 'webhook-verification-no-echo',
  level: 'must',
  quote: 'A reachable endpoint that fails to echo yields `-32015 CallbackEndpointError` with `data.reason: "challenge_failed"`',
  source: DRAFT,
};

const RULES = [unknownEvent, badSecret, httpsOnly, refused, noEcho];

const code = (reply: Reply) => reply.message?.error?.code;
const reason = (reply: Reply) => {
  const data = reply.message?.error?.data;
  return isObject(data) ? data.reason : undefined;
};

export const webhookErrors: Scenario = {
  name: 'webhook-errors',
  title: 'what events/subscribe refuses',
  rules: RULES,
  async run(context, report) {
    // What a server should have refused but created is in `accepted`: removed afterwards.
    await withReceiver(context, report, RULES, async (receiver, accepted) => {
      const subscribe = async (url: string, secret: string, name = context.subscription.name) => {
        const reply = await context.connection.request('events/subscribe', { ...subscribeParams(context, url, secret), name });
        if (reply.message?.result) accepted.add(url);
        return reply;
      };
      /** `events/unsubscribe` of the key that was refused: -32011 when it was not created. */
      const notCreated = async (url: string) => code(await unsubscribe(context, url)) === -32011;
      const secret = newWebhookSecret();
      const unknown = await subscribe(receiver.endpoint('unknown-event', secret), secret, NO_SUCH_TYPE);
      const data = unknown.message?.error?.data;
      report.check(unknownEvent, code(unknown) === -32011 && (!isObject(data) || data.kind === undefined || data.kind === 'event'), describeReply(unknown));

      const secrets = { 'no whsec_ prefix': 'not-a-whsec-secret', '16 bytes': newWebhookSecret(16), '65 bytes': newWebhookSecret(65) };
      const answers: string[] = [];
      for (const [what, bad] of Object.entries(secrets)) {
        const reply = await subscribe(receiver.endpoint('bad-secret', secret), bad);
        if (code(reply) !== -32602) answers.push(`${what}: ${describeReply(reply)}`);
      }
      report.check(badSecret, answers.length === 0, answers.join('; '));

      const plain = await subscribe(PLAIN_HTTP_URL, secret);
      report.check(httpsOnly, code(plain) === -32602, `${PLAIN_HTTP_URL}: ${describeReply(plain)}`);

      const missing = receiver.endpoint('not-found', secret, 'not-found');
      const notFound = await subscribe(missing, secret);
      report.check(
        refused,
        code(notFound) === -32015 && (reason(notFound) === 'http_4xx' || reason(notFound) === 'challenge_failed') && (await notCreated(missing)),
        `a callback URL answering 404: ${describeReply(notFound)}${accepted.has(missing) ? ' (and the subscription exists)' : ''}`,
      );

      const silent = receiver.endpoint('no-echo', secret, 'no-echo');
      const unechoed = await subscribe(silent, secret);
      const reached = receiver.postsTo(silent).length > 0;
      report.check(
        noEcho,
        reached && code(unechoed) === -32015 && reason(unechoed) === 'challenge_failed' && (await notCreated(silent)),
        `a callback URL answering 200 {}${reached ? '' : ' (never reached)'}: ${describeReply(unechoed)}`,
      );
    });
  },
};

