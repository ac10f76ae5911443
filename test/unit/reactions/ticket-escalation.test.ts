import { afterEach, describe, expect, it } from 'vitest';
import { reactionsHarness, upstream } from './harness.js';

const escalated = (data: Record<string, unknown>, raw: unknown = {}) =>
  upstream('ticket.escalated', { ticketId: '5158', title: 'Cannot log in', ...data }, { source: 'zendesk', customerId: 'cus_1', raw });

describe('ticket escalation reaction', () => {
  let h = reactionsHarness();
  afterEach(async () => {
    await h.close();
    h = reactionsHarness();
  });

  it('records the escalation and requests an urgent handoff for strongly negative sentiment', async () => {
    const [cause] = await h.deliver(
      escalated({ escalationReason: 'negative_sentiment' }, { summary: 'Locked out for two days', sentiment: -0.9, wait_time_minutes: 42, previous_attempts: 3 }),
    );
    expect((await h.memory.get('cus_1')).facts.escalation_5158?.value).toEqual({
      reason: 'negative_sentiment',
      summary: 'Locked out for two days',
      sentiment: -0.9,
      waitTimeMinutes: 42,
      previousAttempts: 3,
      escalatedAt: '2026-01-01T12:00:00.000Z',
    });
    const [handoff] = await h.derived('handoff.requested');
    expect(handoff).toMatchObject({
      data: { causeId: cause!.id, ticketId: '5158', priority: 'urgent', link: 'https://relay.example.com/customers/cus_1/context' },
    });
  });

  it.each([
    ['priority_raised', null],
    ['negative_sentiment', 'slightly_negative'],
    ['negative_sentiment', -0.2],
    ['wait_time', 'very_negative'],
  ])('requests a normal handoff for reason %s with sentiment %s', async (reason, sentiment) => {
    await h.deliver(escalated({ escalationReason: reason }, { sentiment }));
    expect((await h.derived('handoff.requested'))[0]?.data.priority).toBe('normal');
  });

  it('lets a helpdesk fetcher fill in what the payload lacks', async () => {
    await h.close();
    h = reactionsHarness({ builtIn: { helpdesk: { fetchTicket: async () => ({ summary: 'from helpdesk', sentiment: 'very_negative', previousAttempts: 2 }) } } });
    await h.deliver(escalated({ escalationReason: 'negative_sentiment' }, { summary: 'from payload' }));
    const [handoff] = await h.derived('handoff.requested');
    expect(handoff?.data).toMatchObject({ summary: 'from payload', sentiment: 'very_negative', previousAttempts: 2, priority: 'urgent' });
  });
});
