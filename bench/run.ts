/**
 * `npm run bench -- <name> [options]`: runs one benchmark module. Modules are loaded
 * lazily so a benchmark's dependencies (a server, a database) cost nothing to the others.
 * To add one, write `bench/<name>.ts` exporting `run(args)` and list it here.
 */
export interface BenchmarkModule {
  run(args: string[]): Promise<void>;
}

interface BenchmarkEntry {
  summary: string;
  load(): Promise<BenchmarkModule>;
}

const benchmarks: Record<string, BenchmarkEntry> = {
  log: {
    summary: 'event log appends (1 and 16 producers) and replay, vs bare better-sqlite3',
    load: () => import('./log.js'),
  },
  ingest: {
    summary: 'verified + deduplicated + durable webhooks/s over loopback HTTP, vs bare node:http',
    load: () => import('./ingest.js'),
  },
  modes: {
    summary: 'requests, tool calls, webhook-to-onEvent latency and recovery after a relay restart per client mode (push, long poll, tools 1 s / 30 s)',
    load: () => import('./modes.js'),
  },
  scale: {
    summary: 'push fan-out to 1,000 subscribers, replay of 100,000 missed events, memory per idle subscriber, vs a bare SSE server; webhook latency with 20,000 groups and 2,000 sessions held',
    load: () => import('./scale.js'),
  },
  latency: {
    summary: 'push latency at a steady open-loop webhook rate (p50/p99/p99.9/max, per second), webhook answers, relay CPU and event-loop delay, vs a bare SSE broadcast server',
    load: () => import('./latency.js'),
  },
  webhooks: {
    summary: 'outbound webhook delivery (events/subscribe): deliveries/s of a backlog and webhook-in to callback latency at an open-loop rate, vs a bare loop POSTing the same signed bodies',
    load: () => import('./webhooks.js'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(benchmarks).map((n) => n.length));
  const lines = Object.entries(benchmarks).map(([name, b]) => `  ${name.padEnd(width)}  ${b.summary}`);
  return ['usage: npm run bench -- <name> [options]', '', 'benchmarks:', ...lines].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.error(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = Object.hasOwn(benchmarks, name) ? benchmarks[name] : undefined;
  if (entry === undefined) {
    console.error(`unknown benchmark "${name}"; available: ${Object.keys(benchmarks).join(', ')}\n`);
    console.error(usage());
    return 2;
  }
  const module = await entry.load();
  await module.run(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // A benchmark that failed its checks has set its own exit code already.
    if (code !== 0) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
