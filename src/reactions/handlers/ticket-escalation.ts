import type { Event } from '../../events/event.js';
import type { ReactionHandler } from '../handler.js';
import { number, pick, text } from '../payload.js';

/** What the agent taking over should know about an escalated ticket. */
export interface EscalationDetails {
  reason: string | null;
  summary: string | null;
  /** A label (`very_negative`, `negative`, …) or a score in [-1, 1]. */
  sentiment: string | number | null;
  waitTimeMinutes: number | null;
  previousAttempts: number | null;
}

/**
 * Optional enrichment from the helpdesk's API (e.g. Zendesk's ticket endpoint): fills the
 * details the webhook did not carry (never overriding them). A failing fetch is ignored: the
 * handoff goes out with what the payload had rather than waiting on the helpdesk.
 */
export interface HelpdeskFetcher {
  fetchTicket(ticketId: string): Promise<Partial<EscalationDetails> | null>;
}

function fromPayload(event: Event): EscalationDetails {
  const sentiment = pick(event, ['sentiment', 'sentimentScore', 'sentiment_score']);
  return {
    reason: text(event.data.escalationReason) ?? text(pick(event, ['escalation_reason'])),
    summary: text(pick(event, ['summary', 'description'])) ?? text(event.data.title),
    sentiment: typeof sentiment === 'number' ? sentiment : text(sentiment),
    waitTimeMinutes: number(pick(event, ['waitTimeMinutes', 'wait_time_minutes', 'wait_time'])),
    previousAttempts: number(pick(event, ['previousAttempts', 'previous_attempts', 'contact_attempts'])),
  };
}

/** Sentiment reported as milder than strongly negative (a score above -0.6, or a non-negative or "slightly" label). */
function isMild(sentiment: string | number | null): boolean {
  if (sentiment === null) return false;
  if (typeof sentiment === 'number') return sentiment > -0.6;
  const label = sentiment.toLowerCase();
  return !label.includes('negative') || /slight|mild|somewhat/.test(label);
}

/**
 * `urgent` when the ticket was escalated for sentiment (a reason naming it, e.g.
 * `negative_sentiment`) and the sentiment, where reported, is strongly negative; else `normal`.
 */
export function handoffPriority(details: EscalationDetails): 'urgent' | 'normal' {
  return details.reason !== null && /sentiment/i.test(details.reason) && !isMild(details.sentiment) ? 'urgent' : 'normal';
}

/** `ticket.escalated` → `escalation_<ticketId>`; `handoff.requested` with a link to the customer's context. */
export function ticketEscalatedHandler(helpdesk?: HelpdeskFetcher): ReactionHandler {
  return {
    name: 'relay/ticket-escalated',
    on: 'ticket.escalated',
    async handle(event, ctx) {
      const ticketId = text(event.data.ticketId);
      if (ticketId === null) return 'skipped';
      let details = fromPayload(event);
      if (helpdesk) {
        const fetched = await helpdesk.fetchTicket(ticketId).catch(() => null);
        if (fetched) {
          const merged = { ...details };
          for (const k of Object.keys(merged) as (keyof EscalationDetails)[]) {
            if (merged[k] === null && fetched[k] !== undefined) (merged as Record<string, unknown>)[k] = fetched[k];
          }
          details = merged;
        }
      }
      const customerId = event.customerId ?? null;
      if (customerId !== null) {
        await ctx.memory.upsert(customerId, `escalation_${ticketId}`, { ...details, escalatedAt: event.occurredAt }, { eventId: event.id, occurredAt: event.occurredAt });
      }
      await ctx.emit('handoff.requested', {
        ticketId,
        priority: handoffPriority(details),
        ...details,
        link: customerId === null ? null : `${ctx.publicUrl}/customers/${encodeURIComponent(customerId)}/context`,
        contextResource: customerId === null ? null : `customer://${encodeURIComponent(customerId)}/context`,
      });
    },
  };
}
