import { build } from 'hdr-histogram-js';
import { describeMachine } from './machine.js';
import { formatCount, formatRatio, formatSeconds, formatTable } from './table.js';

/** The `webhooks` report: relay and bare loop side by side, the ratios, and the run's checks. */

export interface WebhookSettings {
  events: number;
  rate: number;
  seconds: number;
}

/** A backlog delivered back to back: how many arrived, from the first arrival to the last. */
export interface Throughput {
  delivered: number;
  seconds: number;
  /** CPU seconds of the sender (the relay process, or the bench process for the bare loop) over the phase. */
  senderCpuSeconds: number | undefined;
  meanBytes: number;
}

/** One open-loop phase: latency in ms of each arrival from its scheduled send time. */
export interface OpenLoop {
  latenciesMs: number[];
}

export interface Side {
  backlog: Throughput;
  live: OpenLoop;
}

/** p50, p99 and max in ms, from an HDR histogram of µs (3 significant digits). */
export function percentiles(latenciesMs: readonly number[]): { p50: number; p99: number; max: number } {
  const histogram = build({ numberOfSignificantValueDigits: 3 });
  for (const ms of latenciesMs) histogram.recordValue(Math.max(0, Math.round(ms * 1000)));
  const at = (p: number) => histogram.getValueAtPercentile(p) / 1000;
  const out = { p50: at(50), p99: at(99), max: histogram.maxValue / 1000 };
  histogram.destroy();
  return out;
}

const rate = (t: Throughput) => (t.delivered - 1) / t.seconds;
const ms = (value: number) => value.toFixed(1);
const cpuPerDelivery = (t: Throughput) => (t.senderCpuSeconds === undefined ? '–' : `${formatCount((t.senderCpuSeconds / t.delivered) * 1e6)} µs`);

/** Prints the report; returns how many problems the run found (each listed). */
export function printWebhooksReport(settings: WebhookSettings, relay: Side, bare: Side, problems: readonly string[]): number {
  console.log('# webhooks benchmark: outbound webhook delivery (events/subscribe)');
  for (const line of describeMachine()) console.log(line);
  console.log('relay: sqlite, synchronous=full; receiver: bare node:http in its own process; sender of the baseline: a sequential loop in the bench process');
  console.log('');
  const [relayLive, bareLive] = [percentiles(relay.live.latenciesMs), percentiles(bare.live.latenciesMs)];
  const backlog = `backlog of ${formatCount(settings.events)}`;
  const live = `${formatCount(settings.rate)} events/s for ${settings.seconds} s`;
  const rows = [
    [`deliveries/s, ${backlog}`, formatCount(rate(relay.backlog)), formatCount(rate(bare.backlog)), formatRatio(rate(relay.backlog) / rate(bare.backlog))],
    [`seconds, ${backlog}`, formatSeconds(relay.backlog.seconds), formatSeconds(bare.backlog.seconds), ''],
    [`sender CPU per delivery, ${backlog}`, cpuPerDelivery(relay.backlog), cpuPerDelivery(bare.backlog), ''],
    [`latency p50 ms, ${live}`, ms(relayLive.p50), ms(bareLive.p50), formatRatio(relayLive.p50 / bareLive.p50)],
    [`latency p99 ms, ${live}`, ms(relayLive.p99), ms(bareLive.p99), formatRatio(relayLive.p99 / bareLive.p99)],
    [`latency max ms, ${live}`, ms(relayLive.max), ms(bareLive.max), ''],
    ['mean callback body, bytes', formatCount(relay.backlog.meanBytes), formatCount(bare.backlog.meanBytes), ''],
  ];
  console.log(formatTable([{ header: 'measurement' }, { header: 'relay (sqlite full)', align: 'right' }, { header: 'bare loop (baseline)', align: 'right' }, { header: 'relay ÷ baseline', align: 'right' }], rows));
  console.log('');
  console.log(`latency: from the provider's scheduled send time to the body's arrival at the receiver (relay: webhook in, committed, called back; baseline: the signed POST alone), ${formatCount(relay.live.latenciesMs.length)} and ${formatCount(bare.live.latenciesMs.length)} samples, HDR histogram (3 significant digits)`);
  console.log('');
  console.log(
    problems.length === 0
      ? 'checked: every event reached the receiver once, in log order, from the relay and from the bare loop; every webhook was accepted as new; no gap or terminated envelope'
      : `PROBLEMS:\n${problems.map((p) => `- ${p}`).join('\n')}`,
  );
  return problems.length;
}
