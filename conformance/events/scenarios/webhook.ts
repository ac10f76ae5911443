/**
 * Webhook delivery (`events/subscribe`, `events/unsubscribe`) to the suite's own loopback
 * receiver: verification before anything is delivered, the result, refresh by key, signed
 * deliveries carrying the subscription id, an event as an occurrence whose `eventId` is its
 * `webhook-id`, and unsubscribe stopping deliveries.
 */
import { type Context, DRAFT, type Json, type Report, type Rule, type Scenario, describeReply, isObject, show, sleep, subscriptionParams } from '../suite.js';
import type { Reply } from '../wire.js';
import { HEADERS, newWebhookSecret, type Post, WebhookReceiver } from '../webhook-receiver.js';
import { listAll } from './list.js';
import { occurrenceProblem } from './poll.js';

/** The lifetime the suite suggests (`ttlMs`): ten minutes, well above any server's floor. */
const TTL_MS = 600_000;
const WAIT_MS = 10_000;
/** How long a delivery the server should no longer make is waited for, once a later subscription got its event. */
const QUIET_MS = 1000;
/** A refresh comes at least this long after the subscribe, so a grant in whole seconds moves too. */
const REFRESH_AFTER_MS = 1100;

const verifyFirst: Rule = {
  id: 'webhook-verify-before-delivery',
  level: 'must',
  quote:
    "a server MUST NOT begin delivering to a callback URL until the endpoint's intent to receive deliveries is confirmed, by one of: (a) a verification handshake — before activating, the server POSTs a `verification` control envelope carrying a single-use, short-lived `challenge` nonce (signed and headed like any delivery), and the endpoint proves intent by echoing the nonce in a `2xx` body",
  source: DRAFT,
};
const controlId: Rule = {
  id: 'webhook-control-envelope-id',
  level: 'must',
  quote: 'Every delivery MUST include `webhook-id` (the `eventId` for event deliveries; `msg_<type>_<random>` for control envelopes)',
  source: DRAFT,
};
const resultShape: Rule = {
  id: 'webhook-subscribe-result',
  level: 'must',
  quote:
    'Server-->>SDK: {id, refreshBefore, cursor, truncated} ... `refreshBefore` (response, always present, nullable) ... A server MUST NOT return `null` unless the client suggested `ttlMs: null` ... `truncated`: true if delivery started later than the supplied cursor',
  source: DRAFT,
};
const ttlGrant: Rule = {
  id: 'webhook-refresh-before-grant',
  level: 'should',
  quote: '`refreshBefore` (response) is the grant. It SHOULD be less than or equal to the suggestion',
  source: DRAFT,
};
const refresh: Rule = {
  id: 'webhook-refresh-idempotent',
  level: 'must',
  quote:
    '`events/subscribe` is idempotent — calling it again with the same subscription key ... refreshes the TTL and updates mutable fields. ... `id` ... is stable across refreshes ... the server re-grants a TTL on each refresh.',
  source: DRAFT,
};
const signed: Rule = {
  id: 'webhook-signed-headers',
  level: 'must',
  quote:
    'Every delivery MUST include `webhook-id` ..., `webhook-timestamp` (Unix seconds), and `webhook-signature`. ... deliveries MUST include `X-MCP-Subscription-Id` (the subscription `id`) ... Off-the-shelf Standard Webhooks verifiers (e.g., Svix libraries) work without modification.',
  source: DRAFT,
};
const occurrence: Rule = {
  id: 'webhook-event-occurrence',
  level: 'must',
  quote: 'the body of webhook event deliveries is an `EventOccurrence` ... `webhook-id` carries the `eventId` for event deliveries',
  source: DRAFT,
};
const unsubscribeStops: Rule = {
  id: 'webhook-unsubscribe-stops',
  level: 'must',
  quote: '`events/unsubscribe` is an eager cleanup mechanism. ... calling it immediately frees server resources and stops webhook deliveries without waiting for TTL expiry.',
  source: DRAFT,
};
const unsubscribeUnknown: Rule = {
  id: 'webhook-unsubscribe-not-found',
  level: 'must',
  quote: '-32011 NotFound: A referenced entity does not exist — ... or no subscription matching the key on `events/unsubscribe`. ... `data.kind` ("event" | "subscription") MAY disambiguate.',
  source: DRAFT,
};

/** Why the webhook checks cannot run, or `undefined` when the event type under test lists `"webhook"`. */
async function webhookUnavailable(context: Context): Promise<string | undefined> {
  const { types } = await listAll(async (params) => (await context.connection.request('events/list', params)).message?.result);
  const type = types.find((t) => t.name === context.subscription.name);
  if (Array.isArray(type?.delivery) && type.delivery.includes('webhook')) {
    return context.options.token === undefined ? 'needs --token: events/subscribe requires an authenticated principal (else -32012)' : undefined;
  }
  const others = types.filter((t) => Array.isArray(t.delivery) && t.delivery.includes('webhook')).map((t) => t.name);
  return `${context.subscription.name} does not list "webhook" delivery${others.length ? ` (${show(others)} do; pass --event)` : ''}`;
}

/**
 * Runs `checks` with a receiver of its own when the event type under test lists `"webhook"`
 * (otherwise every rule is skipped); then removes the subscriptions still in `live` (callback
 * URLs), so that nothing is delivered to a closed receiver later, and closes it.
 */
export async function withReceiver(context: Context, report: Report, rules: Rule[], checks: (receiver: WebhookReceiver, live: Set<string>) => Promise<void>): Promise<void> {
  const unavailable = await webhookUnavailable(context);
  if (unavailable !== undefined) {
    for (const rule of rules) report.skip(rule, unavailable);
    return;
  }
  const receiver = await WebhookReceiver.start();
  const live = new Set<string>();
  try {
    await checks(receiver, live);
  } finally {
    for (const url of live) await unsubscribe(context, url).catch(() => undefined);
    await receiver.close();
  }
}

/** `events/subscribe` params for the subscription under test, delivered to `url`. */
export function subscribeParams(context: Context, url: string, secret: string): Json {
  return subscriptionParams(context.subscription, { delivery: { mode: 'webhook', url, secret }, cursor: null, ttlMs: TTL_MS });
}

/** `events/unsubscribe` of the subscription under test delivered to `url`. */
export function unsubscribe(context: Context, url: string): Promise<Reply> {
  return context.connection.request('events/unsubscribe', subscriptionParams(context.subscription, { delivery: { url } }));
}

/** The body as sent, verified or not. */
function bodyOf(post: Post): Json | undefined {
  if (post.body) return post.body;
  try {
    const parsed: unknown = JSON.parse(post.raw);
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

const isEvent = (post: Post) => bodyOf(post)?.type === undefined;

/** What is wrong with a subscribe result (asked with a finite `ttlMs` and `cursor: null`), if anything. */
function resultProblem(result: Json | undefined): string | undefined {
  if (!result) return 'no result';
  if (typeof result.id !== 'string' || result.id === '') return `id ${show(result.id)}`;
  if (typeof result.refreshBefore !== 'string' || Number.isNaN(Date.parse(result.refreshBefore))) return `refreshBefore ${show(result.refreshBefore)} (ttlMs was ${TTL_MS})`;
  if (result.cursor !== null && typeof result.cursor !== 'string') return `cursor ${show(result.cursor)}`;
  if (result.truncated !== false) return `truncated ${show(result.truncated)} for cursor null`;
  if (result.deliveryStatus !== undefined && !(isObject(result.deliveryStatus) && typeof result.deliveryStatus.active === 'boolean')) return `deliveryStatus ${show(result.deliveryStatus)}`;
  return undefined;
}

/** A grant within the suggestion: after the request was sent, at most `ttlMs` (and a second) after it was answered. */
function grantProblem(result: Json | undefined, askedAt: number, answeredAt: number): string | undefined {
  const at = Date.parse(String(result?.refreshBefore));
  return at > askedAt && at <= answeredAt + TTL_MS + 1000 ? undefined : `refreshBefore ${show(result?.refreshBefore)} for ttlMs ${TTL_MS} asked at ${new Date(askedAt).toISOString()}`;
}

/** What is wrong with the POSTs to `url` (signature, headers, the subscription id), if anything. */
function signingProblem(posts: Post[], id: unknown): string | undefined {
  for (const post of posts) {
    const missing = HEADERS.filter((name) => post.headers[name] === undefined);
    if (missing.length > 0) return `a POST without ${missing.join(', ')}: ${post.raw.slice(0, 200)}`;
    if (post.problem !== undefined) return `a POST (webhook-id ${post.headers['webhook-id']}) failed standardwebhooks verification: ${post.problem}`;
    if (post.headers['x-mcp-subscription-id'] !== id) return `x-mcp-subscription-id ${show(post.headers['x-mcp-subscription-id'])}, the subscription id is ${show(id)}`;
  }
  return posts.length === 0 ? 'no POST arrived' : undefined;
}

/** Control envelopes must carry `msg_<type>_<random>`. */
function controlIdProblem(posts: Post[]): string | undefined {
  const controls = posts.filter((post) => !isEvent(post));
  const bad = controls.find((post) => !new RegExp(`^msg_${String(bodyOf(post)!.type)}_.+`).test(post.headers['webhook-id'] ?? ''));
  if (controls.length === 0) return 'no control envelope arrived';
  return bad && `webhook-id ${show(bad.headers['webhook-id'])} on a ${show(bodyOf(bad)!.type)} envelope`;
}

async function subscribeTimed(context: Context, url: string, secret: string): Promise<{ reply: Reply; result: Json | undefined; askedAt: number; answeredAt: number }> {
  const askedAt = Date.now();
  const reply = await context.connection.request('events/subscribe', subscribeParams(context, url, secret));
  return { reply, result: reply.message?.result, askedAt, answeredAt: Date.now() };
}

const RULES = [verifyFirst, controlId, resultShape, ttlGrant, refresh, signed, occurrence, unsubscribeStops, unsubscribeUnknown];

export const webhook: Scenario = {
  name: 'webhook',
  title: 'webhook delivery (events/subscribe, events/unsubscribe)',
  rules: RULES,
  async run(context, report) {
    await withReceiver(context, report, RULES, async (receiver, live) => {
      const secret = newWebhookSecret();
      const main = receiver.endpoint('main', secret);
      const first = await subscribeTimed(context, main, secret);
      if (!first.result) throw new Error(`events/subscribe to the suite's receiver failed: ${describeReply(first.reply)}`);
      live.add(main);
      const id = first.result.id;
      const head = receiver.postsTo(main)[0];
      const challenge = head && bodyOf(head);
      report.check(
        verifyFirst,
        head !== undefined && head.at <= first.answeredAt && challenge?.type === 'verification' && typeof challenge.challenge === 'string' && challenge.challenge !== '',
        head
          ? `the first POST to the new callback URL was ${show(challenge ?? head.raw)}${head.at > first.answeredAt ? ', after events/subscribe answered' : ''}`
          : 'no verification POST reached the new callback URL before events/subscribe answered',
      );

      if (!context.canTrigger) {
        report.skip(occurrence, 'needs --trigger to make the server produce events');
      } else {
        const from = receiver.posts.items.length;
        await context.trigger();
        const event = await receiver.next(main, isEvent, WAIT_MS, from);
        const body = event?.body;
        const problem = event === undefined ? `no event POST within ${WAIT_MS} ms of the trigger` : body === undefined ? `unverified: ${event.problem}` : occurrenceProblem(body, context.subscription.name);
        report.check(
          occurrence,
          problem === undefined && body?.eventId === event?.headers['webhook-id'],
          problem ?? `eventId ${show(body?.eventId)} but webhook-id ${show(event?.headers['webhook-id'])}`,
        );
      }

      await sleep(Math.max(0, first.answeredAt + REFRESH_AFTER_MS - Date.now()));
      const again = await subscribeTimed(context, main, secret);
      report.check(
        refresh,
        again.result?.id === id && Date.parse(String(again.result?.refreshBefore)) > Date.parse(String(first.result.refreshBefore)),
        `first ${show({ id, refreshBefore: first.result.refreshBefore })}, refresh ${describeReply(again.reply)}`,
      );
      const shape = resultProblem(first.result) ?? resultProblem(again.result);
      report.check(resultShape, shape === undefined, shape ?? '');
      const grant = grantProblem(first.result, first.askedAt, first.answeredAt) ?? grantProblem(again.result, again.askedAt, again.answeredAt);
      report.check(ttlGrant, grant === undefined, grant ?? '');

      const gone = await unsubscribe(context, main);
      if (isObject(gone.message?.result)) live.delete(main);
      const after = receiver.posts.items.length;
      let sentinel: { url: string; id: unknown } | undefined;
      if (!context.canTrigger) {
        report.skip(unsubscribeStops, 'needs --trigger to make the server produce events');
      } else {
        // A second subscription that receives the next event shows the server delivered it; the first must not.
        const sentinelSecret = newWebhookSecret();
        const url = receiver.endpoint('sentinel', sentinelSecret);
        const witness = await subscribeTimed(context, url, sentinelSecret);
        if (witness.result) live.add(url);
        sentinel = { url, id: witness.result?.id };
        await context.trigger();
        const seen = await receiver.next(url, isEvent, WAIT_MS, after);
        const late = seen && (await receiver.next(main, () => true, QUIET_MS, after));
        const problem = !isObject(gone.message?.result)
          ? `events/unsubscribe: ${describeReply(gone)}`
          : seen === undefined
            ? `a second subscription (${describeReply(witness.reply)}) got no event within ${WAIT_MS} ms of the trigger, so nothing shows the server delivered it`
            : late && `after events/unsubscribe answered, the callback URL still got ${show(bodyOf(late) ?? late.raw)}`;
        report.check(unsubscribeStops, problem === undefined, problem ?? '');
        if (witness.result && isObject((await unsubscribe(context, url)).message?.result)) live.delete(url);
      }
      const second = await unsubscribe(context, main);
      const data = second.message?.error?.data;
      report.check(unsubscribeUnknown, second.message?.error?.code === -32011 && (!isObject(data) || data.kind === undefined || data.kind === 'subscription'), describeReply(second));

      const sentinelPosts = sentinel ? receiver.postsTo(sentinel.url) : [];
      const signing = signingProblem(receiver.postsTo(main), id) ?? (sentinel ? signingProblem(sentinelPosts, sentinel.id) : undefined);
      report.check(signed, signing === undefined, signing ?? '');
      const ids = controlIdProblem([...receiver.postsTo(main), ...sentinelPosts]);
      report.check(controlId, ids === undefined, ids ?? '');
    });
  },
};
