import { z } from 'zod';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Options every backend shares, validated once at construction. */
export const logOptionsSchema = z.object({
  /** Default lease of {@link EventLog.claim} when the caller names none. */
  leaseMs: z.number().int().min(1000).max(3_600_000).default(30_000),
  /** Deliveries before an unacked event is dead-lettered. */
  maxDeliveries: z.number().int().min(1).max(100).default(5),
  /** How long dedup keys are kept; longer than every provider's retry horizon (Stripe: 3 days). */
  dedupWindowMs: z.number().int().min(60_000).default(7 * DAY_MS),
  /** The clock (ms since epoch); tests move it to expire leases and age events. */
  now: z.custom<() => number>((v) => typeof v === 'function').default(() => Date.now),
});

export type LogOptions = z.input<typeof logOptionsSchema>;
export type ResolvedLogOptions = z.output<typeof logOptionsSchema>;

/** A group name: what the polling tools and reactions call their consumer group. */
export const groupNameSchema = z.string().min(1).max(128);

export const readLimitSchema = z.number().int().min(1).max(10_000).default(100);
export const claimLimitSchema = z.number().int().min(1).max(100).default(10);

/** A `RetentionPolicy` (`event-log.ts`) as `trim` checks it. */
export const retentionPolicySchema = z
  .object({
    maxAgeMs: z.number().int().min(0).optional(),
    maxEvents: z.number().int().min(0).optional(),
  })
  .strict();
