import { z } from 'zod';

/**
 * One entry of the event log: a verified upstream delivery (or a derived event), normalized.
 * `id` is assigned by the log at commit and is the event's position: its SSE `id:`, its
 * Events-extension `cursor`, and what `Last-Event-ID` names.
 */
export interface Event {
  /** ULID, strictly increasing in log order. */
  id: string;
  /** Who sent it: `stripe`, `shopify`, `zendesk`, `github`, a Standard-Webhooks source, `relay`. */
  source: string;
  /** Normalized type, e.g. `payment.failed`; unmapped types are `<source>.<provider type>`. */
  type: string;
  /** The provider's own type, e.g. `payment_intent.payment_failed`. */
  sourceType: string;
  /** The upstream's stable id; `(source, sourceEventId)` is the dedup key. */
  sourceEventId: string;
  /** What the event is about, e.g. `customer:cus_123`, `order:450789`, `ticket:35436`. */
  subject?: string;
  customerId?: string;
  /** When it happened upstream (ISO 8601); `receivedAt` when the provider does not say. */
  occurredAt: string;
  /** When the relay accepted it (ISO 8601). */
  receivedAt: string;
  /** Normalized fields, per type. */
  data: Record<string, unknown>;
  /** The verified payload as the provider sent it. */
  raw: unknown;
}

/** The rules of {@link newEventSchema}, named so the log's zod-free check applies the same ones. */
export const SOURCE_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const MAX_TEXT_LENGTH = 256;
const ISO_TIME_OPTIONS = { offset: true } as const;
/** The pattern `z.iso.datetime` tests, for these options. */
export const ISO_TIME_PATTERN = z.regexes.datetime(ISO_TIME_OPTIONS);

const shortText = z.string().min(1).max(MAX_TEXT_LENGTH);
const isoTime = z.iso.datetime(ISO_TIME_OPTIONS);

/** What a writer hands the log; the log fills in `id` and, when absent, the times. */
export const newEventSchema = z
  .object({
    source: z.string().regex(SOURCE_PATTERN, 'source must be lowercase letters, digits, "_", "-" or "." (max 64)'),
    type: shortText,
    sourceType: shortText,
    sourceEventId: shortText,
    subject: shortText.optional(),
    customerId: shortText.optional(),
    occurredAt: isoTime.optional(),
    receivedAt: isoTime.optional(),
    data: z.record(z.string(), z.unknown()),
    raw: z.unknown(),
  })
  .strict();

export type NewEvent = z.input<typeof newEventSchema>;
