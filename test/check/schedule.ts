import { Prng } from './prng.js';

/**
 * What a seed draws: the relay's settings and a list of operations. Operations are plain
 * data (printed on failure, replayed by the shrinker) and name readers and consumers by
 * slot, so an operation whose reader was never opened (its `open` shrunk away) is skipped
 * rather than broken.
 */

export type StoreKind = 'sqlite' | 'memory' | 'redis';
export type ReaderKind = 'push-legacy' | 'push-modern' | 'poll' | 'feed' | 'webhook';
/** The kinds the seed's main stream draws; webhook subscribers come from their own stream ({@link DrawOptions}). */
export const READER_KINDS: readonly ReaderKind[] = ['push-legacy', 'push-modern', 'poll', 'feed'];

/** Types the senders use; `misc.ping` is not in the catalogue, so the relay names it `standard.misc.ping`. */
export const SENT_TYPES = ['payment.failed', 'order.shipped', 'ticket.escalated', 'misc.ping'] as const;
export const normalizedType = (sent: string): string => (sent === 'misc.ping' ? 'standard.misc.ping' : sent);

/** Filters readers and claims draw from: exact types only, so the model matches them without the relay's matcher. */
export const FILTERS: readonly (readonly string[])[] = [['payment.failed'], ['order.shipped', 'ticket.escalated'], ['standard.misc.ping']];

export const READER_SLOTS = 6;
/** Webhook subscribers take the slots after the other readers', which no operation of the main stream names. */
export const WEBHOOK_SLOTS = 2;
export const CONSUMER_SLOTS = 3;

export interface SeedSettings {
  heartbeatMs: number;
  /** 0: push streams never rotate. */
  lifetimeMs: number;
  leaseMs: number;
  maxDeliveries: number;
  bufferBytes: number;
}

export type Op =
  /** `count` fresh deliveries by `concurrency` senders; `background`: later operations overlap it. */
  | { kind: 'send'; count: number; concurrency: number; padding: number; background: boolean; salt: number }
  /** Deliveries of ids sent before, again (a provider's retry). */
  | { kind: 'duplicate'; count: number; salt: number }
  /** Retention to `keep` events, applied by the checker on the store itself. */
  | { kind: 'trim'; keep: number }
  /** `stalled`: connects, then reads nothing until `resume` (a reader stuck in its backlog). */
  | { kind: 'open'; reader: number; as: ReaderKind; filter: number | null; from: 'start' | 'head'; stalled: boolean }
  /** The reader stops reading its socket (and does not reconnect) until `resume`. */
  | { kind: 'pause'; reader: number }
  | { kind: 'resume'; reader: number }
  /** The reader's connection is destroyed; it reconnects from its position unless paused. */
  | { kind: 'cut'; reader: number }
  | { kind: 'kill' }
  | { kind: 'restart' }
  /** Waits past the stream lifetime, so every push stream rotates. */
  | { kind: 'rotate' }
  | { kind: 'claim'; consumer: number; limit: number; filter: number | null }
  /** Acks each event the consumer holds with probability `share`. */
  | { kind: 'ack'; consumer: number; share: number; salt: number }
  /** Waits past the lease, so unacked claims can be claimed again. */
  | { kind: 'expire' }
  /** Lets the relay and readers run for a moment. */
  | { kind: 'settle'; ms: number }
  /** A webhook subscriber's receiver refuses connections (its listener closed) for `ms`; later operations overlap it. */
  | { kind: 'refuse'; reader: number; ms: number }
  /** A webhook subscriber's receiver answers `status` to every delivery for `ms`; later operations overlap it. */
  | { kind: 'reject'; reader: number; ms: number; status: number };

export type OpKind = Op['kind'];
/** What the main stream draws: everything but the receiver faults of webhook subscribers. */
type MainKind = Exclude<OpKind, 'refuse' | 'reject'>;

export interface DrawOptions {
  /**
   * Adds webhook subscribers and spells of their receivers failing, drawn from a stream of
   * their own: the seed's other operations are exactly the ones it draws without them.
   */
  webhooks?: boolean;
}

export interface Schedule {
  seed: number;
  store: StoreKind;
  settings: SeedSettings;
  ops: Op[];
}

export function drawSchedule(seed: number, store: StoreKind, opCount: number, options: DrawOptions = {}): Schedule {
  const rng = new Prng(seed);
  const settings: SeedSettings = {
    heartbeatMs: rng.int(150, 300),
    lifetimeMs: rng.chance(0.4) ? rng.int(700, 2000) : 0,
    leaseMs: 1000,
    maxDeliveries: rng.int(2, 4),
    bufferBytes: rng.pick([4096, 16_384]),
  };
  const restartable = store !== 'memory';
  const weights: Record<MainKind, number> = {
    send: 20,
    duplicate: 5,
    trim: 8,
    open: 9,
    pause: 6,
    resume: 6,
    cut: 5,
    kill: restartable ? 3 : 0,
    restart: restartable ? 3 : 0,
    rotate: settings.lifetimeMs > 0 ? 2 : 0,
    claim: 8,
    ack: 7,
    expire: 4,
    settle: 4,
  };
  const ops: Op[] = [];
  // Most seeds open a couple of readers first, so there is something to deliver to.
  for (let i = rng.int(0, 3); i > 0; i--) ops.push(drawOpen(rng));
  while (ops.length < opCount) ops.push(drawOp(rng, rng.weighted(weights)));
  return { seed, store, settings, ops: options.webhooks ? withWebhooks(seed, ops) : ops };
}

/** Mixed into the seed for the webhook stream, so it draws independently of the main one. */
const WEBHOOK_STREAM = 0x5ebb_00c5;

/**
 * The seed's operations with webhook subscribers slotted in: one or two, opened in the first
 * half, and a few spells of a receiver refusing connections or answering 5xx after its
 * subscriber opened. Everything else they meet — kills, restarts, trims — is the main
 * stream's.
 */
function withWebhooks(seed: number, ops: readonly Op[]): Op[] {
  const rng = new Prng((seed ^ WEBHOOK_STREAM) >>> 0);
  const extra: { at: number; op: Op }[] = [];
  const opened: number[] = [];
  for (let slot = 0, count = rng.int(1, WEBHOOK_SLOTS); slot < count; slot++) {
    const at = rng.int(0, Math.floor(ops.length / 2));
    opened.push(at);
    const filter = rng.chance(0.4) ? rng.int(0, FILTERS.length - 1) : null;
    extra.push({ at, op: { kind: 'open', reader: READER_SLOTS + slot, as: 'webhook', filter, from: rng.chance(0.75) ? 'start' : 'head', stalled: false } });
  }
  for (let faults = rng.int(1, 4); faults > 0; faults--) {
    const slot = rng.int(0, opened.length - 1);
    const at = rng.int(opened[slot]!, ops.length);
    const reader = READER_SLOTS + slot;
    const ms = rng.int(200, 2000);
    extra.push({ at, op: rng.chance(0.5) ? { kind: 'refuse', reader, ms } : { kind: 'reject', reader, ms, status: rng.pick([500, 502, 503]) } });
  }
  // Each extra operation goes before the seed's operation at its index (or at the end), in the order drawn.
  const merged: Op[] = [];
  for (let i = 0; i <= ops.length; i++) {
    for (const e of extra) if (e.at === i) merged.push(e.op);
    if (i < ops.length) merged.push(ops[i]!);
  }
  return merged;
}

function drawOpen(rng: Prng): Op {
  return {
    kind: 'open',
    reader: rng.int(0, READER_SLOTS - 1),
    as: rng.pick(READER_KINDS),
    filter: rng.chance(0.4) ? rng.int(0, FILTERS.length - 1) : null,
    from: rng.chance(0.75) ? 'start' : 'head',
    stalled: rng.chance(0.25),
  };
}

function drawOp(rng: Prng, kind: MainKind): Op {
  const reader = rng.int(0, READER_SLOTS - 1);
  const salt = rng.int(1, 2 ** 31 - 1);
  switch (kind) {
    case 'send': {
      // Mostly small bursts; some large padded ones, which fill a paused reader's socket past
      // the relay's stream buffer; a few bulk ones, so a backlog spans several of the relay's
      // read pages.
      const size = rng.weighted({ small: 77, big: 15, bulk: 8 });
      return {
        kind,
        count: size === 'bulk' ? rng.int(300, 700) : size === 'big' ? rng.int(80, 250) : rng.int(1, 30),
        concurrency: size === 'bulk' ? 8 : rng.int(1, 8),
        // The kernel takes about 4 MB of a socket nobody reads before the relay feels it:
        // big bursts of 4–18 KB frames get past that.
        padding: size === 'big' ? rng.int(2000, 9000) : rng.chance(0.2) ? rng.int(200, 3000) : 0,
        background: rng.chance(0.35),
        salt,
      };
    }
    case 'duplicate':
      return { kind, count: rng.int(1, 8), salt };
    case 'trim':
      return { kind, keep: rng.chance(0.2) ? 0 : rng.int(1, 60) };
    case 'open':
      return drawOpen(rng);
    case 'pause':
    case 'resume':
    case 'cut':
      return { kind, reader };
    case 'claim':
      return { kind, consumer: rng.int(0, CONSUMER_SLOTS - 1), limit: rng.int(1, 20), filter: rng.chance(0.3) ? rng.int(0, FILTERS.length - 1) : null };
    case 'ack':
      return { kind, consumer: rng.int(0, CONSUMER_SLOTS - 1), share: rng.pick([0.3, 0.7, 1]), salt };
    case 'settle':
      return { kind, ms: rng.int(50, 400) };
    case 'kill':
    case 'restart':
    case 'rotate':
    case 'expire':
      return { kind };
  }
}

/** One line per operation, for failure reports. */
export function describeOp(op: Op): string {
  const { kind, ...rest } = op;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [kind, ...fields].join(' ');
}
