import type { CatalogueType } from '../events/catalogue.js';
import type { Normalized } from './provider.js';
import { reject } from './rejection.js';
import { str } from './fields.js';

/** Bounds that keep every built event inside `newEventSchema`. */
const MAX_LABEL = 256;
/** Leaves room for `<source>.` (source ≤ 64) in an unmapped type of at most 256 characters. */
const MAX_SOURCE_TYPE = 128;

/** What a provider's normalizer extracted, before the checks every event shares. */
export interface EventDraft {
  source: string;
  /** The dedup id as found (header or body field). */
  sourceEventId: unknown;
  /** The provider's own type as found. */
  sourceType: unknown;
  /**
   * The type this delivery maps onto: a catalogue type, or one of the relay's own `relay.*`
   * types (an upstream relay's gap); absent for unmapped deliveries.
   */
  type?: CatalogueType | `relay.${string}` | null;
  subject?: string | null;
  customerId?: string | null;
  occurredAt?: string | null;
  data: Record<string, unknown>;
  raw: unknown;
}

export function buildEvent(draft: EventDraft): Normalized {
  if (draft.sourceEventId === null || draft.sourceEventId === undefined || draft.sourceEventId === '') {
    return reject('missing_event_id', 'the delivery carries no event id to deduplicate on');
  }
  const sourceEventId = str(draft.sourceEventId);
  if (sourceEventId === null || sourceEventId.length > MAX_LABEL) {
    return reject('invalid_event_id', `the event id is not a string of at most ${MAX_LABEL} characters`);
  }
  if (draft.sourceType === null || draft.sourceType === undefined || draft.sourceType === '') {
    return reject('missing_event_type', 'the delivery does not say its event type');
  }
  const sourceType = str(draft.sourceType);
  if (sourceType === null || sourceType.length > MAX_SOURCE_TYPE) {
    return reject('invalid_event_type', `the event type is not a string of at most ${MAX_SOURCE_TYPE} characters`);
  }
  const subject = label(draft.subject);
  const customerId = label(draft.customerId);
  return {
    ok: true,
    event: {
      source: draft.source,
      type: draft.type ?? `${draft.source}.${sourceType}`,
      sourceType,
      sourceEventId,
      ...(subject && { subject }),
      ...(customerId && { customerId }),
      ...(draft.occurredAt && { occurredAt: draft.occurredAt }),
      data: draft.data,
      raw: draft.raw,
    },
  };
}

/** `<kind>:<id>`, the subject format filters match on, when the id is known. */
export function subjectOf(kind: string, id: string | null): string | null {
  return id === null || id === '' ? null : `${kind}:${id}`;
}

/** Optional labels that would break the schema are dropped; the raw payload still has them. */
function label(value: string | null | undefined): string | undefined {
  return value && value.length <= MAX_LABEL ? value : undefined;
}
