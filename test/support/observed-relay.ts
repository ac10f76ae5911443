import type { Relay } from '../../src/app.js';
import { startRelay } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/observe/logger.js';
import { testRelayEnv } from './relay.js';

export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A real relay (in memory, free port, reactions off: `testRelayEnv`) whose structured log lines the test can read. */
export async function startObservedRelay(env: Record<string, string> = {}): Promise<{ relay: Relay; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const destination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
  const config = loadConfig(testRelayEnv(env));
  return { relay: await startRelay(config, createLogger('info', destination)), lines };
}

/** Parses Prometheus text into `name{label="v",…}` (labels sorted) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    samples.set(`${match[1]}{${labels.join(',')}}`, Number(match[3]));
  }
  return samples;
}

/** The key {@link parseMetrics} files a sample under. */
export function metricKey(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

export async function scrape(relay: Pick<Relay, 'url'>, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const res = await fetch(`${relay.url}/metrics`, { headers });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}
