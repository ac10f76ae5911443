import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventClient, type EventClientOptions, type SubscribeOptions } from '../../../client/index.js';
import type { EventLog } from '../../../src/log/event-log.js';
import { SqliteEventLog } from '../../../src/log/sqlite/event-log.js';
import type { Event } from '../../../src/events/event.js';
import { recorder } from '../../support/client-harness.js';
import { eventually, keys, startMcpRelay } from '../../support/mcp-clients.js';
import { CallbackServer } from './callback-server.js';
import type { ModeUnderTest } from './modes.js';
import { CuttableProxy, RelayProcess, freePort, ingestAt } from './relay-process.js';

/** The id before every ULID: "from the start of the log". */
const ORIGIN = '0'.repeat(26);

/** The oracle: ids the log committed after `origin`, in log order, of the given types. */
async function committed(log: EventLog, origin: string, types?: string[]): Promise<string[]> {
  const { events } = await log.read({ after: origin, limit: 10_000 });
  return events.filter((e) => !types || types.includes(e.type)).map((e) => e.id);
}

/**
 * The migration contract, written once and run per mode: the same webhooks reach onEvent
 * as the same event ids in the same order as the log committed them, none lost, none
 * doubled, while connections drop (webhook: deliveries and their answers are lost), the relay
 * process restarts, onEvent is slow or throws.
 * Every scenario ends with a sentinel event, so a duplicate or straggler of anything
 * before it would already be in the delivered list when it is compared.
 */
export function deliveryContract(m: ModeUnderTest): void {
  describe(`delivery contract: ${m.label}`, () => {
    const cleanups: (() => Promise<unknown> | void)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    });

    /**
     * A client of the relay at `url`, and how it subscribes in this mode. Webhook: the mode is
     * the subscription's, and the client's handler is served on loopback first.
     */
    const client = async (url: string, options: Partial<EventClientOptions> = {}) => {
      const transport = m.transport();
      const c = createEventClient({
        url: `${url}/mcp`,
        token: keys.alice,
        ...(m.mode === 'webhook' ? {} : { mode: m.mode }),
        reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
        toolsIntervalMs: 50,
        fetch: transport.fetch,
        ...options,
      });
      cleanups.push(() => c.close());
      const callback = m.mode === 'webhook' ? await new CallbackServer(c.webhookHandler).listen() : undefined;
      if (callback) cleanups.push(() => callback.close());
      const subscribe = (subscribeOptions: SubscribeOptions) => c.subscribe(callback ? { ...subscribeOptions, mode: 'webhook', callbackUrl: callback.url } : subscribeOptions);
      return { subscribe, versions: transport.versions, callback };
    };
    const relay = async (env: Record<string, string> = {}) => {
      const r = await startMcpRelay({ ...m.relayEnv, ...env });
      cleanups.push(() => r.close());
      return r;
    };
    /** The era check: every versioned request spoke the mode's era, and at least one did. */
    const expectEra = (versions: (string | null)[]) => {
      const sent = versions.filter((v) => v !== null);
      expect(sent.length).toBeGreaterThan(0);
      expect(new Set(sent)).toEqual(new Set([m.era]));
    };

    it('delivers a filtered mix of webhooks as the log committed them, each once', async () => {
      const r = await relay();
      const types = ['payment.failed', 'order.delayed'];
      const { subscribe, versions } = await client(r.url);
      const rec = recorder({ filter: { types } });
      const sub = await subscribe(rec.options);
      expect(sub.mode).toBe(m.mode);
      const origin = (await r.log.head()) ?? ORIGIN;
      const sent: string[] = [];
      for (const type of ['payment.failed', 'ticket.created', 'order.delayed', 'payment.failed', 'ticket.created', 'order.delayed']) {
        const id = await ingestAt(r.url, type);
        if (types.includes(type)) sent.push(id);
      }
      await rec.until(sent);
      sent.push(await ingestAt(r.url, 'payment.failed'));
      await rec.until(sent);
      expect(rec.delivered.items).toEqual(sent);
      expect(rec.delivered.items).toEqual(await committed(r.log, origin, types));
      expect(rec.errors.items).toEqual([]);
      expectEra(versions);
    });

    const drops = m.streams
      ? ' (cut sockets: found dead by 2× heartbeat silence, RELAY_HEARTBEAT=500ms; and RELAY_STREAM_LIFETIME=250ms rotation)'
      : m.mode === 'webhook'
        ? ' (cut sockets; deliveries cut before the handler, and answers cut after it: redelivered, deduplicated)'
        : ' (cut sockets; RELAY_STREAM_LIFETIME does not apply: no stream)';
    it(`(a) loses and doubles nothing when the server drops the connection mid-stream${drops}`, async () => {
      const r = await relay({ RELAY_STREAM_LIFETIME: '250ms', RELAY_HEARTBEAT: '500ms' });
      const target = new URL(r.url);
      const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port) });
      await proxy.listen();
      cleanups.push(() => proxy.close());
      const { subscribe, versions, callback } = await client(proxy.url, { heartbeatMs: 500 });
      const rec = recorder();
      await subscribe(rec.options);
      const origin = (await r.log.head()) ?? ORIGIN;
      const sent: string[] = [];
      let cut = 0;
      for (let round = 0; round < 3; round++) {
        callback?.loseNext(round === 1 ? 'request' : 'answer');
        // Sent while the client is still reconnecting after the previous cut.
        sent.push(await ingestAt(r.url), await ingestAt(r.url));
        await rec.until(sent);
        cut += proxy.cut();
      }
      sent.push(await ingestAt(r.url));
      await rec.until(sent);
      if (callback) expect(callback.lost).toBe(3);
      else expect(cut).toBeGreaterThan(0);
      expect(rec.delivered.items).toEqual(sent);
      expect(rec.delivered.items).toEqual(await committed(r.log, origin));
      expect(rec.errors.items.filter((e) => e.kind !== 'connection')).toEqual([]);
      expectEra(versions);
    });

    it('(b) loses and doubles nothing when the relay process restarts between events (SQLite store, same port)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'relay-contract-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const dbPath = join(dir, 'relay.db');
      const server = new RelayProcess(await freePort(), dbPath, { ...m.relayEnv, RELAY_HEARTBEAT: '500ms' });
      cleanups.push(() => server.kill());
      await server.start();
      const { subscribe, versions } = await client(server.url, { heartbeatMs: 500 });
      // Tools: a lease cut short by the restart (an ack that never arrived) expires after 1 s.
      const rec = recorder({ leaseMs: 1000 });
      const sub = await subscribe(rec.options);
      const sent = [await ingestAt(server.url), await ingestAt(server.url)];
      await rec.until(sent);
      expect(await server.stop()).toBe(0);
      await server.start();
      // Committed while the client is still reconnecting to the new process.
      sent.push(await ingestAt(server.url), await ingestAt(server.url));
      await rec.until(sent);
      sent.push(await ingestAt(server.url));
      await rec.until(sent);
      if (m.mode === 'tools') {
        // Every event acknowledged, including any whose lease the restart left behind and the
        // relay handed out again (the client drops that redelivery as a duplicate).
        const reader = new SqliteEventLog({ path: dbPath });
        cleanups.push(() => reader.close());
        await eventually(async () => ((await reader.pending('alice')).pending === 0 ? true : undefined), 'every event acknowledged');
      }
      await sub.unsubscribe();
      expect(await server.stop()).toBe(0);
      const log = new SqliteEventLog({ path: dbPath });
      try {
        expect(rec.delivered.items).toEqual(sent);
        expect(rec.delivered.items).toEqual(await committed(log, ORIGIN));
        if (m.mode === 'tools') expect(await log.pending('alice')).toMatchObject({ pending: 0, deadLettered: 0 });
      } finally {
        await log.close();
      }
      expect(rec.errors.items.filter((e) => e.kind !== 'connection')).toEqual([]);
      expectEra(versions);
    });

    it(`(c) loses and doubles nothing when onEvent is slower than the webhooks arrive${m.streams ? ' (across stream rotations)' : ''}`, async () => {
      const r = await relay({ RELAY_STREAM_LIFETIME: '250ms' });
      const { subscribe, versions } = await client(r.url);
      let open!: () => void;
      const allSent = new Promise<void>((resolve) => (open = resolve));
      const rec = recorder({ leaseMs: 20_000 });
      rec.options.onEvent = async (event: Event) => {
        // The first event waits until every webhook is in the log: a backlog builds up behind it.
        await allSent;
        await new Promise((resolve) => setTimeout(resolve, 25));
        rec.delivered.push(event.id);
      };
      await subscribe(rec.options);
      const origin = (await r.log.head()) ?? ORIGIN;
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) sent.push(await ingestAt(r.url));
      open();
      await rec.until(sent);
      sent.push(await ingestAt(r.url));
      await rec.until(sent);
      expect(rec.delivered.items).toEqual(sent);
      expect(rec.delivered.items).toEqual(await committed(r.log, origin));
      expect(rec.errors.items).toEqual([]);
      expectEra(versions);
    });

    it('(d) retries an onEvent that throws once and delivers that event once, in its place', async () => {
      const r = await relay();
      const { subscribe, versions } = await client(r.url);
      const tries = new Map<string, number>();
      const rec = recorder();
      rec.options.onEvent = (event: Event) => {
        const n = (tries.get(event.id) ?? 0) + 1;
        tries.set(event.id, n);
        // The order.delayed event (second of four) fails on its first try only.
        if (event.type === 'order.delayed' && n === 1) throw new Error('transient failure');
        rec.delivered.push(event.id);
      };
      await subscribe(rec.options);
      const origin = (await r.log.head()) ?? ORIGIN;
      const sent: string[] = [];
      for (const type of ['payment.failed', 'order.delayed', 'payment.failed', 'payment.failed']) sent.push(await ingestAt(r.url, type));
      const throwOn = sent[1];
      await rec.until(sent);
      sent.push(await ingestAt(r.url));
      await rec.until(sent);
      expect(rec.delivered.items).toEqual(sent);
      expect(rec.delivered.items).toEqual(await committed(r.log, origin));
      expect(sent.map((id) => tries.get(id))).toEqual(sent.map((id) => (id === throwOn ? 2 : 1)));
      expect(rec.errors.items).toEqual([]);
      expectEra(versions);
    });
  });
}
