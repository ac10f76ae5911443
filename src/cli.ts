#!/usr/bin/env node
import { describeStore, loadConfig, ConfigError } from './config.js';
import { startRelay } from './app.js';
import { createLogger } from './observe/logger.js';

const USAGE = `usage: mcp-event-relay <command> [options]

commands:
  serve [--host H] [--port P] [--store sqlite:<path>|memory]   run the relay

Every option also reads from the environment (HOST, PORT, RELAY_STORE, …); see README.md.`;

async function serve(argv: string[]): Promise<void> {
  const config = loadConfig(process.env, argv);
  const logger = createLogger(config.logLevel);
  const relay = await startRelay(config, logger);
  logger.info({ url: relay.url, store: describeStore(config.store) }, `mcp-event-relay listening on ${relay.url}`);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    relay.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

const commands: Record<string, (argv: string[]) => Promise<void>> = { serve };

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return;
  }
  const command = commands[name];
  if (!command) {
    console.error(`mcp-event-relay: unknown command "${name}"\n\n${USAGE}`);
    process.exit(2);
  }
  await command(argv);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`mcp-event-relay: invalid configuration: ${error.message}`);
    process.exit(2);
  }
  console.error(`mcp-event-relay: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
