import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CallbackReceiver } from '../support/callback-receiver.js';
import { LOG_START, Model } from './model.js';
import type { Interruption, Observation } from './readers/reader.js';
import { walkReader } from './walk.js';

/**
 * The walk's rules for a webhook receiver, on observations written by hand: what a relay
 * may resend after each interruption, gaps sent again, and where a receiver the relay never
 * names a position to may stop. The seeds (`seeds.test.ts`) run them against a real relay.
 */

const TYPES = ['payment.failed', 'order.shipped', 'payment.failed', 'order.shipped', 'payment.failed'];

function logOf(types: readonly string[]): { model: Model; ids: string[] } {
  const model = new Model();
  const ids = types.map((type, i) => {
    const id = `01${String(i + 1).padStart(24, '0')}`;
    const delivery = { webhookId: `msg_${i}`, type, rawBody: Buffer.alloc(0), outcome: 'sending' as const };
    model.addDelivery(delivery);
    model.commit(delivery, id, 'answer');
    return id;
  });
  return { model, ids };
}

const open = (cursor = LOG_START): Observation => ({ k: 'open', cursor, at: 0 });
const event = (id: string, type: string): Observation => ({ k: 'event', id, type, at: 10 });
const again = (id: string): Observation => ({ k: 'redelivery', id, at: 10 });
const interrupted = (by: Interruption): Observation => ({ k: 'interrupted', by, at: 10 });
const gap = (resumedAt: string): Observation => ({ k: 'gap', after: undefined, resumedAt, at: 10, via: 'webhook gap' });

describe('the walk of a webhook receiver', () => {
  const { model, ids } = logOf(TYPES);
  const all = ids.map((id, i) => event(id, TYPES[i]!));
  const walk = (observations: Observation[], filter: string[] | null = null) => walkReader(observations, filter, model, model.head(), false).failures;

  it('passes every event once in order, and a filtered receiver that holds every match but not the head', () => {
    expect(walk([open(), ...all])).toEqual([]);
    expect(walk([open(), all[1]!, all[3]!], ['order.shipped'])).toEqual([]);
  });

  it('fails a receiver missing its last match, or an event delivered twice under two webhook-ids', () => {
    expect(walk([open(), all[0]!, all[2]!], ['payment.failed'])).toEqual([expect.stringMatching(/never received 1 matching events/)]);
    expect(walk([open(), ...all, event(ids[4]!, TYPES[4]!)])).toEqual([expect.stringMatching(/delivered again \(duplicate\)/)]);
  });

  it('takes a redelivery only after an interruption, once per interruption', () => {
    expect(walk([open(), all[0]!, all[1]!, again(ids[1]!), ...all.slice(2)])).toEqual([expect.stringMatching(/delivered again .* no interruption/)]);
    expect(walk([open(), all[0]!, all[1]!, interrupted('cut'), again(ids[1]!), ...all.slice(2)])).toEqual([]);
    expect(walk([open(), all[0]!, all[1]!, interrupted('cut'), again(ids[1]!), again(ids[1]!), ...all.slice(2)])).toEqual([expect.stringMatching(/no interruption/)]);
  });

  it('lets a killed relay resend anything since it started, a gracefully restarted one only the delivery in flight', () => {
    const resend = [again(ids[0]!), again(ids[1]!), again(ids[2]!), ...all.slice(3)];
    expect(walk([open(), ...all.slice(0, 3), interrupted('kill'), ...resend])).toEqual([]);
    expect(walk([open(), ...all.slice(0, 3), interrupted('restart'), again(ids[2]!), ...all.slice(3)])).toEqual([]);
    expect(walk([open(), ...all.slice(0, 3), interrupted('restart'), ...resend])).toEqual([expect.stringMatching(/no interruption/)]);
  });

  it('after a kill, a graceful restart before the new process resent anything still allows its resend', () => {
    const seen = [open(), all[0]!, all[1]!, interrupted('kill'), all[2]!, interrupted('restart')];
    expect(walk([...seen, again(ids[1]!), again(ids[1]!), again(ids[2]!), ...all.slice(3)])).toEqual([]);
  });

  it('takes a gap sent again after a kill only over what retention removed', () => {
    const trimmed = logOf(TYPES);
    trimmed.model.trims.push({ startedAt: 5, below: trimmed.ids[3]!, keep: 2 });
    const walkTrimmed = (observations: Observation[]) => walkReader(observations, null, trimmed.model, trimmed.model.head(), false).failures;
    const before = [open(), ...all.slice(0, 3)];
    expect(walkTrimmed([...before, interrupted('kill'), gap(ids[2]!), ...all.slice(3)])).toEqual([]);
    expect(walkTrimmed([...before, gap(ids[2]!), ...all.slice(3)])).toEqual([expect.stringMatching(/gap .* no interruption/)]);
    expect(walk([...before, interrupted('kill'), gap(ids[2]!), ...all.slice(3)])).toEqual([expect.stringMatching(/retention had not removed/)]);
  });

  it('reports what the receiver saw wrong itself', () => {
    expect(walk([open(), ...all, { k: 'violation', text: 'webhook-id x carries eventId y', at: 10 }])).toEqual(['#6: webhook-id x carries eventId y']);
  });
});

describe("the webhook reader's receiver", () => {
  it('starts again on its own port after a stop, and rejects a port that is taken', async () => {
    const receiver = await new CallbackReceiver().start();
    const { port, url } = receiver;
    await receiver.stop();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    await expect(receiver.start(port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    await receiver.start(port);
    expect(receiver.url).toBe(url);
    await receiver.stop();
  });
});
