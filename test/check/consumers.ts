import type { EventLog } from '../../src/log/event-log.js';
import { readRpc } from '../support/sse-reader.js';
import { Prng } from './prng.js';
import { MODERN_VERSION, modernHeaders } from './readers/push-readers.js';
import { CHECK_GROUP } from './relay-under-test.js';

const clientInfo = { name: 'relay-fault-checker', version: '1.0.0' };
let nextRequestId = 1;

export interface ClaimedRecord {
  id: string;
  type: string;
  deliveryCount: number;
  leaseExpiresAt: number;
}

export interface ClaimRecord {
  consumer: number;
  filter: readonly string[] | null;
  /** When the answer arrived (checker clock; the relay runs on the same machine's clock). */
  receivedAt: number;
  events: ClaimedRecord[];
}

/** `ok`, `unknown` (no answer), or the tool's error code. */
export interface AckRecord {
  consumer: number;
  id: string;
  outcome: string;
}

type ToolAnswer = { isError: boolean; body: Record<string, any> } | undefined;

/**
 * Consumers of one group (`alice/check`) over the polling tools, stateless 2026-07-28
 * requests: `check_pending_events` leases events to one consumer, `ack_event` settles them.
 * Everything they were handed and every ack's outcome is recorded for `group-check.ts`.
 */
export class GroupConsumers {
  readonly claims: ClaimRecord[] = [];
  readonly acks: AckRecord[] = [];
  readonly #held = new Map<number, Map<string, ClaimedRecord>>();
  used = false;
  /** Claims whose answer was lost: their delivery counts are unknown to the checker. */
  lostClaims = 0;

  constructor(
    private readonly url: string,
    private readonly leaseMs: number,
  ) {}

  async claim(consumer: number, limit: number, filter: readonly string[] | null): Promise<number> {
    this.used = true;
    const answer = await this.#call('check_pending_events', { group: CHECK_GROUP, limit, leaseMs: this.leaseMs, ...(filter ? { types: [...filter] } : {}) });
    // No answer: whatever was leased comes back when its lease ends.
    if (!answer) this.lostClaims++;
    if (!answer || answer.isError) return 0;
    const events = ((answer.body.events ?? []) as Record<string, any>[]).map((e) => ({
      id: String(e.id),
      type: String(e.type),
      deliveryCount: Number(e.deliveryCount),
      leaseExpiresAt: Number(e.leaseExpiresAt),
    }));
    this.claims.push({ consumer, filter, receivedAt: Date.now(), events });
    const held = this.#held.get(consumer) ?? new Map<string, ClaimedRecord>();
    this.#held.set(consumer, held);
    for (const e of events) held.set(e.id, e);
    return events.length;
  }

  /** Acks each held event with probability `share`, in one request; one by one if the batch is refused. */
  async ack(consumer: number, share: number, salt: number): Promise<void> {
    const held = this.#held.get(consumer);
    if (!held || held.size === 0) return;
    const rng = new Prng(salt);
    const ids = [...held.keys()].filter(() => rng.chance(share));
    if (ids.length === 0) return;
    for (const id of ids) held.delete(id);
    const outcome = await this.#ack(ids);
    if (outcome !== 'ok' && outcome !== 'unknown' && ids.length > 1) {
      for (const id of ids) this.acks.push({ consumer, id, outcome: await this.#ack([id]) });
      return;
    }
    for (const id of ids) this.acks.push({ consumer, id, outcome });
  }

  /**
   * After the schedule: claims and acks until the group has nothing pending, waiting out the
   * leases others still hold (and so dead-lettering what ran out of deliveries).
   */
  async drain(store: EventLog): Promise<string | undefined> {
    if (!this.used) return undefined;
    for (let round = 0; round < 40; round++) {
      const claimed = await this.claim(0, 100, null);
      if (claimed > 0) {
        await this.ack(0, 1, 1);
        continue;
      }
      const counts = await store.pending(CHECK_GROUP);
      if (counts.pending === 0) return undefined;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.leaseMs, 500)));
    }
    const counts = await store.pending(CHECK_GROUP);
    return counts.pending === 0 ? undefined : `the group still has ${counts.pending} pending events (${counts.leased} leased) after draining`;
  }

  async #ack(ids: string[]): Promise<string> {
    const answer = await this.#call('ack_event', { group: CHECK_GROUP, eventIds: ids });
    if (!answer) return 'unknown';
    return answer.isError ? String(answer.body.error ?? 'error') : 'ok';
  }

  async #call(name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
    const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientInfo': clientInfo, 'io.modelcontextprotocol/clientCapabilities': {} };
    try {
      const res = await fetch(`${this.url}/mcp`, {
        method: 'POST',
        headers: modernHeaders('tools/call', { 'mcp-name': name }),
        body: JSON.stringify({ jsonrpc: '2.0', id: nextRequestId++, method: 'tools/call', params: { name, arguments: args, _meta: meta } }),
        signal: AbortSignal.timeout(15_000),
      });
      const answer = await readRpc(res);
      const result = answer.result as { isError?: boolean; content?: { type: string; text?: string }[]; structuredContent?: Record<string, any> } | undefined;
      if (!result) return undefined;
      const text = result.content?.find((c) => c.type === 'text')?.text ?? '{}';
      return { isError: result.isError === true, body: result.structuredContent ?? (JSON.parse(text) as Record<string, any>) };
    } catch {
      return undefined;
    }
  }
}
